import net from 'node:net';
import { LineDecoder } from '../protocol/LineDecoder.js';
import type { AgentMessageInput } from '../protocol/messages.js';
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
 */
export class Channel {
  /** Messages dropped because the channel was already closed. */
  dropped = 0;
  private closed = false;
  private readonly decoder: LineDecoder;

  constructor(
    private readonly socket: net.Socket,
    private readonly events: ChannelEvents,
    maxLineBytes = 1024 * 1024,
  ) {
    this.decoder = new LineDecoder((line) => this.onLine(line), maxLineBytes, (bytes) =>
      this.events.onMalformed('oversize', `<${bytes} bytes>`),
    );
    socket.on('data', (chunk: Buffer) => this.decoder.push(chunk));
    socket.on('end', () => {
      this.decoder.end();
      this.markClosed('eof');
    });
    socket.on('error', () => this.markClosed('error'));
    socket.on('close', () => this.markClosed('eof'));
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
      this.socket.write(`${JSON.stringify(message)}\n`);
    } catch {
      this.dropped++;
    }
  }

  /**
   * Flushes what was written and closes the channel; resolves within `timeoutMs`
   * (default 500 ms) either way, destroying the socket if the flush did not finish.
   */
  close(timeoutMs = 500): Promise<void> {
    this.closed = true;
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
    this.events.onClose(reason);
  }
}
