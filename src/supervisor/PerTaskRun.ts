import { EventEmitter } from 'node:events';
import type { AgentMessage } from '../protocol/messages.js';
import { stepEvents } from './stepEvents.js';
import type { Task } from '../queue/Task.js';
import type { AdapterEvent, StdoutAdapter } from './adapters/StdoutAdapter.js';
import type { OversizedSample } from '../protocol/LineDecoder.js';
import type { ExitInfo, ProcessHandle, SpawnSpec } from './AgentProcess.js';
import type { RunEnding, RunResult, RunState, StopReason } from './PerTaskRunState.js';
import type { RunGuard } from './RunGuard.js';
import type { RunPolicy } from './RunPolicy.js';
import { spawnProcess } from './spawnProcess.js';

/** Time for a run: a clock and timers, injected so unit tests use fake timers. */
export interface RunTimers {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: RunTimers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What the health, metrics and status layers read of a running per_task process. */
export interface TaskRun {
  readonly task: Task;
  /** The run's slot index, "0" … max_concurrent-1: the `replica` label of its metrics. */
  readonly slot: string;
  /** The supervisor's id of the slot, `<agent>-<slot>` (`deva_ts-0`), as `qaa-0` is for a service replica. */
  readonly slotId: string;
  readonly proc: ProcessHandle;
  readonly state: RunState;
  readonly startedAt: number;
  readonly lastOutputAt: number;
  readonly turns: number;
  readonly lastMessage: string | null;
  readonly result: RunResult | undefined;
  /** Turns, tokens and estimated cost so far, when the run has a guard. */
  readonly guard: RunGuard | undefined;
}

export interface PerTaskRunOptions {
  task: Task;
  agent: string;
  slot: string;
  spec: SpawnSpec;
  policy: RunPolicy;
  /** Budgets and tool-loop detection read from the adapter's events (LLM agents); none when undefined. */
  guard?: RunGuard | undefined;
  /** SIGTERM → SIGKILL grace when the supervisor ends the run (the agent's stop_timeout), ms. */
  stopTimeoutMs: number;
  adapter: StdoutAdapter | undefined;
  /** Process factory; a real process by default (unit tests pass a fake). Must not throw. */
  createProcess?: ((spec: SpawnSpec) => ProcessHandle) | undefined;
  timers?: RunTimers | undefined;
}

interface RunEvents {
  /** Every lifecycle transition (spawned → streaming → result_seen → stopping → exited); `stopping` again, with `killed: true`, at SIGKILL. */
  state: [next: RunState, prev: RunState | undefined];
  /** A stdout or stderr line; any line is liveness. */
  output: [stream: 'stdout' | 'stderr', line: string];
  /** What the stdout adapter made of a stdout line (progress, result, session, log, malformed). */
  adapter: [AdapterEvent];
  /** A protocol message the process sent on its channel. */
  message: [AgentMessage];
  /** A malformed protocol line. */
  protocolError: [reason: string, detail: string];
  /** The stop grace ran out: SIGKILL went to the process group. */
  killed: [StopReason];
  /** The process and its group are gone; exactly once per run. */
  exited: [RunEnding];
}

/**
 * One process for one attempt of a task: spawned → streaming → result_seen →
 * exited, or stopping on the way when the supervisor ends it. It reports what it
 * sees and asks its {@link RunPolicy} when it has gone on too long; ending it
 * means SIGTERM to its whole process group, then SIGKILL after the stop grace.
 * What becomes of the task is decided from its {@link RunEnding} (runOutcome).
 */
export class PerTaskRun extends EventEmitter<RunEvents> implements TaskRun {
  readonly task: Task;
  readonly slot: string;
  readonly slotId: string;
  readonly startedAt: number;
  state: RunState;
  lastOutputAt: number;
  turns = 0;
  lastMessage: string | null = null;
  result: RunResult | undefined;
  readonly guard: RunGuard | undefined;
  /** What said the API rate-limited this run, once something did. */
  rateLimited: string | undefined;
  private process: ProcessHandle | undefined;
  private readonly timers: RunTimers;
  private deadline: unknown;
  private killTimer: unknown;
  private resolveEnded!: (e: RunEnding) => void;
  /** Resolves with the ending once `exited` was emitted. */
  readonly ended = new Promise<RunEnding>((r) => { this.resolveEnded = r; });

  constructor(private readonly o: PerTaskRunOptions) {
    super();
    this.timers = o.timers ?? realTimers;
    this.task = o.task;
    this.slot = o.slot;
    this.slotId = `${o.agent}-${o.slot}`;
    this.guard = o.guard;
    this.startedAt = this.timers.now();
    this.lastOutputAt = this.startedAt;
    this.state = { kind: 'spawned', since: this.startedAt };
  }

  /** The process (after start()). */
  get proc(): ProcessHandle {
    if (!this.process) throw new Error(`run ${this.slotId} of ${this.task.id} was not started`);
    return this.process;
  }

  /** Spawns the process. A spawn that fails ends the run (exit with `spawnError`); it never throws. */
  start(): void {
    if (this.process) return;
    const proc = (this.o.createProcess ?? spawnProcess)(this.o.spec);
    this.process = proc;
    proc.on('stdout', (line) => this.onLine('stdout', line));
    proc.on('stderr', (line) => this.onLine('stderr', line));
    proc.on('stdoutOversized', (bytes, sample) => this.onOversized(bytes, sample));
    proc.on('message', (m) => {
      const now = this.timers.now();
      this.lastOutputAt = now;
      this.emit('message', m);
      // An SDK agent's own steps go to the same guard as a Claude stream's tool calls.
      if (m.type === 'task.step' && m.task_id === this.task.id) this.onEvents(stepEvents(m), now);
    });
    proc.on('protocolError', (r, d) => this.emit('protocolError', r, d));
    proc.on('exit', (info) => {
      // A listener that throws must not leave the run unended (stop() waits for `ended`).
      this.onExit(info).catch((err: unknown) => process.emitWarning(`per_task run ${this.slotId} (task ${this.task.id}): an exit listener failed: ${(err as Error).message}`));
    });
    this.emit('state', this.state, undefined);
    this.schedule();
  }

  /**
   * Ends the run: a protocol `shutdown`, SIGTERM (and SIGCONT) to its process group,
   * SIGKILL after the stop grace. The first reason wins. Resolves with the ending.
   */
  stop(reason: StopReason): Promise<RunEnding> {
    const s = this.state;
    if (s.kind === 'exited' || s.kind === 'stopping' || !this.process) return this.ended;
    this.clearDeadline();
    const now = this.timers.now();
    const proc = this.process;
    this.setState({ kind: 'stopping', since: now, reason, killAt: now + this.o.stopTimeoutMs, killed: false });
    proc.send({ type: 'shutdown', deadline_ms: this.o.stopTimeoutMs, reason: reason.detail });
    proc.signalGroup('SIGTERM');
    proc.signalGroup('SIGCONT'); // a SIGSTOPped run must be able to act on SIGTERM
    this.killTimer = this.timers.setTimeout(() => this.kill(), this.o.stopTimeoutMs);
    return this.ended;
  }

  private kill(): void {
    const s = this.state;
    if (s.kind !== 'stopping') return;
    this.process?.signalGroup('SIGKILL');
    this.setState({ ...s, killed: true });
    this.emit('killed', s.reason);
  }

  private onLine(stream: 'stdout' | 'stderr', line: string): void {
    const now = this.timers.now();
    this.lastOutputAt = now;
    if (this.state.kind === 'spawned') this.setState({ kind: 'streaming', since: now });
    this.emit('output', stream, line);
    if (stream !== 'stdout' || !this.o.adapter) return;
    this.onEvents(this.o.adapter.onLine(line), now);
  }

  /**
   * A stdout line over `max_result_bytes` (the spec's stdoutMaxLineBytes): only its size
   * and its first and last bytes are known. The adapter reads what it can of them
   * (claude's result, usage and cost); otherwise one `oversized` event says so.
   */
  private onOversized(bytes: number, sample: OversizedSample | undefined): void {
    const now = this.timers.now();
    this.lastOutputAt = now;
    if (this.state.kind === 'spawned') this.setState({ kind: 'streaming', since: now });
    const limit = this.o.spec.stdoutMaxLineBytes ?? this.o.spec.maxLineBytes;
    const line = { bytes, limit, head: sample?.head.toString('utf8') ?? '', tail: sample?.tail.toString('utf8') ?? '' };
    const events: AdapterEvent[] = this.o.adapter?.onOversizedLine?.(line) ?? [{ kind: 'oversized', bytes, limit, standIn: {} }];
    this.onEvents(events, now);
  }

  private onEvents(events: readonly AdapterEvent[], now: number): void {
    for (const ev of events) {
      if (ev.kind === 'progress') {
        this.turns = ev.turns;
        this.lastMessage = ev.message;
      } else if (ev.kind === 'rate_limited') {
        this.rateLimited ??= ev.detail;
      } else if (ev.kind === 'result') {
        this.result = ev;
        if (this.state.kind === 'streaming') {
          this.setState({ kind: 'result_seen', since: now, result: ev });
          this.schedule(); // the result grace is sooner than any other deadline
        }
      }
      this.emit('adapter', ev);
      const stop = this.guard?.onEvent(ev, now);
      if (stop) void this.stop(stop);
    }
  }

  private async onExit(info: ExitInfo): Promise<void> {
    if (this.state.kind === 'exited') return;
    this.clearDeadline();
    if (this.killTimer !== undefined) this.timers.clearTimeout(this.killTimer);
    await this.process?.reapGroup(); // no orphans: what is left of the group goes too
    const s = this.state;
    const now = this.timers.now();
    const ending: RunEnding = {
      exit: info,
      stop: s.kind === 'stopping' ? s.reason : undefined,
      result: this.result,
      killed: s.kind === 'stopping' && s.killed,
      durationMs: now - this.startedAt,
      rateLimited: this.rateLimited,
    };
    try {
      this.setState({ kind: 'exited', since: now, ending });
      this.emit('exited', ending);
    } finally {
      this.resolveEnded(ending);
    }
  }

  /** Asks the policy for the next deadline and arms one timer for it. */
  private schedule(): void {
    this.clearDeadline();
    const d = this.o.policy.decide(this, this.timers.now());
    if (d.action === 'stop') void this.stop(d.reason);
    else if (d.action === 'wait') this.deadline = this.timers.setTimeout(() => this.schedule(), Math.max(0, d.until - this.timers.now()));
  }

  private clearDeadline(): void {
    if (this.deadline !== undefined) this.timers.clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  private setState(next: RunState): void {
    const prev = this.state;
    this.state = next;
    this.emit('state', next, prev);
  }
}
