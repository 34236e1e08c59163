import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { LineDecoder, type OversizedSample } from '../protocol/LineDecoder.js';
import type { AgentMessage, SupervisorMessage } from '../protocol/messages.js';
import { ENV, PROTOCOL_VERSION } from '../protocol/messages.js';
import { pidsInGroup, readProcStat } from './procfs.js';
import { ProtocolChannel } from './ProtocolChannel.js';

export interface SpawnSpec {
  argv: readonly string[];
  cwd?: string | undefined;
  env: Record<string, string>;
  maxLineBytes: number;
  /** Written to the process's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string | undefined;
  /**
   * Longest stdout line read whole, when it differs from `maxLineBytes` (a per_task
   * agent's `max_result_bytes`). A longer line is reported by `stdoutOversized`
   * with its first and last {@link OVERSIZED_KEEP_BYTES} bytes when anyone listens.
   */
  stdoutMaxLineBytes?: number | undefined;
}

/** How much of the start and of the end of an oversized stdout line is kept for its reader. */
export const OVERSIZED_KEEP_BYTES = 64 * 1024;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Error when the process could not be spawned at all (ENOENT, EACCES…). */
  spawnError?: string | undefined;
}

export interface ProcessEvents {
  spawn: [];
  message: [AgentMessage];
  protocolError: [reason: string, detail: string];
  stdout: [line: string];
  stderr: [line: string];
  /** A stdout line over its limit was dropped; `sample` holds its first and last bytes. */
  stdoutOversized: [bytes: number, sample: OversizedSample | undefined];
  exit: [ExitInfo];
}

/** What owners need of a process (AgentProcess, or a fake in unit tests). */
export interface ProcessHandle extends EventEmitter<ProcessEvents> {
  readonly pid: number | undefined;
  readonly startedAt: number;
  readonly procStartTime: number | undefined;
  readonly hasExited: boolean;
  send(msg: SupervisorMessage): boolean;
  signalGroup(signal: NodeJS.Signals): void;
  stop(timeoutMs: number, reason: string): Promise<ExitInfo>;
  reapGroup(graceMs?: number): Promise<void>;
  waitExit(): Promise<ExitInfo>;
}

/**
 * One OS process of an agent: spawned as the leader of its own process group
 * (so stopping it ends its whole tree), with stdout/stderr captured line by line
 * and the protocol channel on fd 3. It only reports what happens; lifecycle and
 * restart decisions belong to its owner.
 */
export class AgentProcess extends EventEmitter<ProcessEvents> implements ProcessHandle {
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  /** /proc start time (clock ticks): identifies the process across pid reuse. */
  readonly procStartTime: number | undefined;
  private channel: ProtocolChannel | undefined;
  private exitInfo: ExitInfo | undefined;
  private readonly exited: Promise<ExitInfo>;

  constructor(spec: SpawnSpec) {
    super();
    const [cmd, ...args] = spec.argv as [string, ...string[]];
    this.child = spawn(cmd, args, {
      cwd: spec.cwd,
      env: { ...spec.env, [ENV.PROTOCOL_FD]: '3', [ENV.PROTOCOL_VERSION]: String(PROTOCOL_VERSION) },
      stdio: [spec.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe', 'pipe'],
      detached: true, // setsid(): new session and process group, pgid = pid
      shell: false,
      windowsHide: true,
    });
    this.exited = new Promise((resolve) => {
      let spawnError: string | undefined;
      this.child.once('error', (err) => {
        spawnError = `${(err as NodeJS.ErrnoException).code ?? 'ERROR'}: ${err.message}`;
        if (this.child.pid === undefined) this.finish({ code: null, signal: null, spawnError }, resolve);
      });
      this.child.once('exit', (code, signal) => this.finish({ code, signal, spawnError }, resolve));
    });
    this.child.once('spawn', () => this.emit('spawn'));
    if (spec.stdin !== undefined && this.child.stdin) {
      this.child.stdin.on('error', () => undefined); // EPIPE: the program did not read all of it
      this.child.stdin.end(spec.stdin);
    }
    this.procStartTime = this.child.pid ? readProcStat(this.child.pid)?.startTime : undefined;
    this.captureLines(this.child.stdout, 'stdout', spec.stdoutMaxLineBytes ?? spec.maxLineBytes);
    this.captureLines(this.child.stderr, 'stderr', spec.maxLineBytes);
    const sock = this.child.stdio[3] as Socket | null;
    if (sock) {
      this.channel = new ProtocolChannel(sock, {
        onMessage: (m) => this.emit('message', m),
        onError: (reason, detail) => this.emit('protocolError', reason, detail),
      }, spec.maxLineBytes);
    }
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /** Resolves when the process has exited (immediately if it already has). */
  waitExit(): Promise<ExitInfo> {
    return this.exited;
  }

  send(msg: SupervisorMessage): boolean {
    return this.channel?.send(msg) ?? false;
  }

  /** Signals the whole process group. Never throws. */
  signalGroup(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      // group already gone
    }
  }

  /**
   * Graceful stop: a protocol `shutdown`, SIGTERM to the group, then SIGKILL to
   * whatever of the group is left after `timeoutMs`. Resolves when the leader and
   * every member of the group are gone.
   */
  async stop(timeoutMs: number, reason: string): Promise<ExitInfo> {
    const pid = this.child.pid;
    if (pid === undefined) return this.exited;
    this.send({ type: 'shutdown', deadline_ms: Math.max(0, Math.round(timeoutMs)), reason });
    this.signalGroup('SIGTERM');
    this.signalGroup('SIGCONT'); // a SIGSTOPped agent must be able to act on SIGTERM
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.hasExited && pidsInGroup(pid).length === 0) return this.exited;
      await sleep(25);
    }
    this.signalGroup('SIGKILL');
    const info = await this.exited;
    await this.reapGroup(2000);
    return info;
  }

  /** Kills what is left of the group after the leader died (no orphans). */
  async reapGroup(graceMs = 1000): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) return;
    if (pidsInGroup(pid).length === 0) return;
    this.signalGroup('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && pidsInGroup(pid).length > 0) await sleep(25);
    if (pidsInGroup(pid).length > 0) this.signalGroup('SIGKILL');
  }

  private finish(info: ExitInfo, resolve: (i: ExitInfo) => void): void {
    if (this.exitInfo) return;
    this.exitInfo = info;
    // Let buffered output and protocol lines drain before reporting the exit.
    setImmediate(() => {
      this.emit('exit', info);
      resolve(info);
    });
  }

  private captureLines(stream: NodeJS.ReadableStream | null, kind: 'stdout' | 'stderr', maxLineBytes: number): void {
    if (!stream) return;
    const onOversize = (bytes: number, sample?: OversizedSample) => {
      if (kind === 'stdout' && this.listenerCount('stdoutOversized') > 0) this.emit('stdoutOversized', bytes, sample);
      else this.emit(kind, `[line of ${bytes} bytes truncated]`);
    };
    const dec = new LineDecoder((line) => this.emit(kind, line), maxLineBytes, onOversize, kind === 'stdout' ? OVERSIZED_KEEP_BYTES : 0);
    stream.on('data', (c: Buffer) => dec.push(c));
    stream.on('end', () => dec.end());
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
