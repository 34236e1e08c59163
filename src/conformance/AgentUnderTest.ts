import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { decodeAgentLine, encode } from '../protocol/codec.js';
import { LineDecoder } from '../protocol/LineDecoder.js';
import { ENV, PROTOCOL_VERSION, type AgentMessage, type SupervisorMessage } from '../protocol/messages.js';

/** One line of the conversation, as the kit saw it. */
export interface TranscriptEntry {
  /** Milliseconds since the agent was started. */
  at: number;
  dir: 'agent' | 'supervisor';
  /** The line as sent (without its newline). */
  line: string;
  /** Agent lines: the decoded message, or why the line was refused. */
  message?: AgentMessage;
  error?: { reason: string; detail: string };
}

export interface ExitResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Milliseconds since the agent was started. */
  at: number;
}

/**
 * An agent process run by the conformance kit the way the supervisor runs one
 * (src/supervisor/AgentProcess.ts): its own process group, stdout and stderr
 * captured, and the protocol channel on fd 3, the same UNIX stream socketpair
 * Node creates for the supervisor. Every line both ways is kept in `transcript`.
 */
export class AgentUnderTest {
  readonly child: ChildProcess;
  readonly transcript: TranscriptEntry[] = [];
  readonly output: string[] = [];
  exit: ExitResult | undefined;
  readonly exited: Promise<ExitResult>;
  private readonly t0 = performance.now();
  private readonly sock: Socket;
  private waiters: (() => void)[] = [];

  constructor(argv: readonly string[], env: Record<string, string>, maxLineBytes: number) {
    const [cmd, ...args] = argv as [string, ...string[]];
    this.child = spawn(cmd, args, {
      env: { ...process.env, ...env, [ENV.PROTOCOL_FD]: '3', [ENV.PROTOCOL_VERSION]: String(PROTOCOL_VERSION) },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      detached: true,
    });
    this.sock = this.child.stdio[3] as Socket;
    const decoder = new LineDecoder(
      (line) => {
        if (line.trim() === '') return;
        const r = decodeAgentLine(line);
        this.record(r.ok ? { at: this.now(), dir: 'agent', line, message: r.message } : { at: this.now(), dir: 'agent', line, error: { reason: r.reason, detail: r.detail } });
      },
      maxLineBytes,
      (bytes) => this.record({ at: this.now(), dir: 'agent', line: `[${bytes} bytes]`, error: { reason: 'oversize', detail: `a line of ${bytes} bytes, over max_line_bytes (${maxLineBytes})` } }),
    );
    this.sock.on('data', (c: Buffer) => decoder.push(c));
    this.sock.on('end', () => decoder.end());
    this.sock.on('error', () => undefined);
    for (const s of [this.child.stdout, this.child.stderr]) {
      s?.on('data', (c: Buffer) => {
        this.output.push(...c.toString('utf8').split('\n').filter(Boolean));
        if (this.output.length > 200) this.output.splice(0, this.output.length - 200);
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('error', (err) => {
        this.output.push(`spawn failed: ${err.message}`);
        if (this.child.pid === undefined) this.finish({ code: null, signal: null, at: this.now() }, resolve);
      });
      this.child.once('exit', (code, signal) => this.finish({ code, signal, at: this.now() }, resolve));
    });
  }

  now(): number {
    return performance.now() - this.t0;
  }

  /** Sends one message as one NDJSON line. */
  send(msg: SupervisorMessage): void {
    this.sendRaw(encode(msg));
  }

  /** Writes raw text (one or several lines, or part of one) in one write. */
  sendRaw(text: string): void {
    for (const line of text.split('\n').slice(0, -1)) this.record({ at: this.now(), dir: 'supervisor', line });
    const rest = text.slice(text.lastIndexOf('\n') + 1);
    if (rest) this.record({ at: this.now(), dir: 'supervisor', line: `${rest} [part of a line]` });
    if (!this.sock.destroyed) this.sock.write(text);
  }

  /** Agent entries from index `from` on. */
  agentSince(from: number): TranscriptEntry[] {
    return this.transcript.slice(from).filter((e) => e.dir === 'agent');
  }

  /**
   * Waits until an agent entry from index `from` on satisfies `pred` (or the process
   * exits, or `timeoutMs` passes); returns it or undefined.
   */
  async waitFor(pred: (e: TranscriptEntry) => boolean, timeoutMs: number, from = 0): Promise<TranscriptEntry | undefined> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.agentSince(from).find(pred);
      if (found) return found;
      const left = deadline - performance.now();
      if (left <= 0 || this.exit) return undefined;
      await new Promise<void>((resolve) => {
        const t = setTimeout(done, left);
        function done() { clearTimeout(t); resolve(); }
        this.waiters.push(done);
        void this.exited.then(done);
      });
    }
  }

  async waitExit(timeoutMs: number): Promise<ExitResult | undefined> {
    if (this.exit) return this.exit;
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.exited, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), timeoutMs); })]);
    clearTimeout(timer);
    return r;
  }

  /** Ends the whole process group (SIGKILL) and waits for the leader. */
  async kill(): Promise<void> {
    if (!this.exit && this.child.pid !== undefined) {
      try { process.kill(-this.child.pid, 'SIGKILL'); } catch { /* gone */ }
      await this.exited;
    } else if (this.child.pid !== undefined) {
      try { process.kill(-this.child.pid, 'SIGKILL'); } catch { /* group gone */ }
    }
    this.sock.destroy();
  }

  private record(e: TranscriptEntry): void {
    this.transcript.push(e);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private finish(r: ExitResult, resolve: (r: ExitResult) => void): void {
    if (this.exit) return;
    // Let the last protocol lines drain before reporting the exit.
    setTimeout(() => {
      this.exit = r;
      resolve(r);
      const w = this.waiters;
      this.waiters = [];
      for (const f of w) f();
    }, 20);
  }
}
