import net from 'node:net';
import { LineDecoder } from '../protocol/LineDecoder.js';
import type { AgentMessageInput } from '../protocol/messages.js';
import { encodeMessage } from './encode.js';
import { parseSupervisorLine, type IncomingMessage } from './supervisorMessage.js';

export interface ChannelEvents {
  onMessage(message: IncomingMessage): void;
  /** A line that was not a valid supervisor message; it was ignored. */
  onMalformed(reason: string, line: string): void;
  /** End of file or a socket error: the supervisor is gone. Called once. */
  onClose(reason: 'eof' | 'error'): void;
}

/**
 * The agent's end of the protocol channel: NDJSON over the inherited socketpair.
 * Sending never throws; after the channel closed, messages are dropped and counted.
 *
 * Lines sent during one event-loop turn (a callback and the promise jobs it starts)
 * are queued and written together, in order, with one socket write once that turn's
 * microtask queue has drained (a microtask schedules a nextTick, which runs after
 * the queue is empty): a task whose handler does not wait for I/O sends
 * `task.started`, `task.progress` and `task.finished` in one write. The queue is
 * also written before the channel closes, before the socket's own end-of-file
 * handling, and on process `exit` (a synchronous `process.exit()` right after a send
 * loses nothing a direct write would have sent: libuv writes at once when the socket
 * has no write in flight).
 */
export class Channel {
  /** Messages dropped because the channel was already closed (or could not be encoded). */
  dropped = 0;
  private closed = false;
  private readonly decoder: LineDecoder;
  /** Lines waiting for the end of the turn, and how many. */
  private pending = '';
  private pendingCount = 0;
  private flushScheduled = false;
  private readonly flushSoon = (): void => {
    this.flushScheduled = false;
    this.flush();
  };
  /** Runs as a microtask: its nextTick runs once the whole microtask queue has drained. */
  private readonly flushAfterMicrotasks = (): void => void process.nextTick(this.flushSoon);
  private readonly onExit = (): void => this.flush();

  constructor(
    private readonly socket: net.Socket,
    private readonly events: ChannelEvents,
    maxLineBytes = 1024 * 1024,
  ) {
    this.decoder = new LineDecoder((line) => this.onLine(line), maxLineBytes, (bytes) =>
      this.events.onMalformed('oversize', `<${bytes} bytes>`),
    );
    socket.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    // Before net.Socket's own 'end' listener, which refuses writes once the peer ended.
    socket.prependListener('end', () => this.flush());
    socket.on('end', () => {
      this.decoder.end();
      this.markClosed('eof');
    });
    socket.on('error', () => this.markClosed('error'));
    socket.on('close', () => this.markClosed('eof'));
    process.on('exit', this.onExit);
  }

  /** Opens the channel on an inherited file descriptor. @throws Error when the fd is not usable. */
  static fromFd(fd: number, events: ChannelEvents, maxLineBytes?: number): Channel {
    return new Channel(new net.Socket({ fd, readable: true, writable: true }), events, maxLineBytes);
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.writable && !this.socket.destroyed;
  }

  send(message: AgentMessageInput): void {
    if (!this.isOpen) {
      this.dropped++;
      return;
    }
    try {
      this.pending += encodeMessage(message);
    } catch {
      this.dropped++;
      return;
    }
    this.pendingCount++;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(this.flushAfterMicrotasks);
    }
  }

  /** Writes the queued lines now, in one write. */
  flush(): void {
    if (this.pendingCount === 0) return;
    const data = this.pending;
    const count = this.pendingCount;
    this.pending = '';
    this.pendingCount = 0;
    if (this.socket.destroyed || !this.socket.writable) {
      this.dropped += count;
      return;
    }
    try {
      this.socket.write(data);
    } catch {
      this.dropped += count;
    }
  }

  /**
   * Flushes what was written and closes the channel; resolves within `timeoutMs`
   * (default 500 ms) either way, destroying the socket if the flush did not finish.
   */
  close(timeoutMs = 500): Promise<void> {
    this.flush();
    this.closed = true;
    process.off('exit', this.onExit);
    const socket = this.socket;
    if (socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      socket.once('close', done);
      socket.end(done);
    });
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    const parsed = parseSupervisorLine(line);
    if (parsed.ok) this.events.onMessage(parsed.message);
    else this.events.onMalformed(parsed.reason, line);
  }

  private markClosed(reason: 'eof' | 'error'): void {
    if (this.closed) return;
    this.closed = true;
    this.flush(); // counted as dropped if the socket can no longer write
    process.off('exit', this.onExit);
    this.events.onClose(reason);
  }
}
