import type { Socket } from 'node:net';
import { decodeAgentLine, encode } from '../protocol/codec.js';
import { LineDecoder } from '../protocol/LineDecoder.js';
import type { AgentMessage, SupervisorMessage } from '../protocol/messages.js';

export interface ChannelHandlers {
  onMessage(msg: AgentMessage): void;
  /** A malformed, unknown or oversized line: counted and logged, never fatal. */
  onError(reason: string, detail: string): void;
}

/** The supervisor's end of one agent's NDJSON channel. */
export class ProtocolChannel {
  private closed = false;
  constructor(private readonly socket: Socket, handlers: ChannelHandlers, maxLineBytes: number) {
    const decoder = new LineDecoder(
      (line) => {
        const r = decodeAgentLine(line);
        if (r.ok) handlers.onMessage(r.message);
        else if (r.reason !== 'empty') handlers.onError(r.reason, r.detail);
      },
      maxLineBytes,
      (bytes) => handlers.onError('oversize', `line of ${bytes} bytes over protocol.max_line_bytes (${maxLineBytes})`),
    );
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('end', () => decoder.end());
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => { this.closed = true; });
  }

  /** Sends a message; returns false (never throws) when the channel is closed. */
  send(msg: SupervisorMessage): boolean {
    if (this.closed || this.socket.destroyed) return false;
    try {
      this.socket.write(encode(msg));
      return true;
    } catch {
      return false;
    }
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }
}
