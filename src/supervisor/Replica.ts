import { EventEmitter } from 'node:events';
import type { AgentConfig } from '../config/schema.js';
import type { AgentMessage, SupervisorMessage } from '../protocol/messages.js';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import type { ExitCause, RestartPolicy } from '../recovery/RestartPolicy.js';
import type { ExitInfo, ProcessHandle, SpawnSpec } from './AgentProcess.js';
import { AgentSession } from './AgentSession.js';
import { describeExit, hasProcess, type LastExit, type ReplicaState } from './ReplicaState.js';
import { spawnProcess } from './spawnProcess.js';

/** What a replica needs from its supervisor. */
export interface ReplicaHost {
  spawnSpec(r: Replica): SpawnSpec;
  /** The checkpoint a new process of `slot` gets in its `welcome` (a promise when it comes from a database). */
  restoredCheckpoint(slot: string): unknown;
  settings(r: Replica): { heartbeat_interval_ms: number; max_checkpoint_bytes: number; max_line_bytes?: number; task_steps?: boolean };
  readonly policy: RestartPolicy;
  /** Process factory; defaults to a real AgentProcess (unit tests pass a fake). */
  createProcess?(spec: SpawnSpec): ProcessHandle;
}

export interface CurrentTask {
  id: string;
  correlationId: string;
  assignedAt: number;
  lastProgressAt: number;
  progress: number | null;
  message: string | null;
}

interface Events {
  state: [ReplicaState, ReplicaState];
  /** Every protocol message, after the replica's own bookkeeping. */
  message: [AgentMessage];
  protocolError: [reason: string, detail: string];
  output: [stream: 'stdout' | 'stderr', line: string];
  /**
   * The process ended. `task` is the task it held, if any (to be re-queued); `cause`
   * is why: the restart that stopped it (manual, alert, unhealthy), a crash, or
   * undefined for a plain stop.
   */
  exit: [LastExit, CurrentTask | undefined, ExitCause | undefined];
  /** Ready for a task (has the `tasks` capability, running, idle). */
  idle: [];
  /** The policy gave up or opened the breaker: a human should know. */
  escalate: [reason: 'restarts_exhausted' | 'circuit_open', detail: string];
}

/**
 * One replica slot of a service agent (`qaa-0`): keeps a process alive through
 * its lifecycle states, asks the RestartPolicy what to do when it ends, and
 * tracks its task; what the agent said over the protocol is its AgentSession.
 */
export class Replica extends EventEmitter<Events> {
  readonly slot: string;
  state: ReplicaState = { kind: 'stopped', since: Date.now() };
  restarts: Record<string, number> = {};
  generation = 0;
  /** What the current process said over the protocol (hello, heartbeats, pongs). */
  readonly session = new AgentSession();
  lastOutputAt: number | undefined;
  /** The process that was sent its `welcome` (a task is assigned only after it). */
  private welcomed: ProcessHandle | undefined;
  task: CurrentTask | undefined;
  /** When this replica was last handed a task (undefined: never); the dispatcher prefers the least recently used. */
  lastAssignedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pendingCause: ExitCause | undefined;
  /** Draining: the restart that waits for the current task to end (the replica takes no new one). */
  draining: ExitCause | undefined;
  /** Ids this process may still report on: tasks assigned to it and work it announced (`task.started` with `name`). */
  private readonly knownTaskIds = new Set<string>();

  private cfg: AgentConfig;

  constructor(config: AgentConfig, readonly index: number, private readonly host: ReplicaHost) {
    super();
    this.cfg = config;
    this.slot = `${config.name}-${index}`;
  }

  /** The agent's config this replica runs with. */
  get config(): AgentConfig {
    return this.cfg;
  }

  /** A reload changed only keys that need no new process (ConfigReload's LIVE_AGENT_KEYS): the replica runs on with the new config. */
  adopt(config: AgentConfig): void {
    this.cfg = config;
  }

  get role(): string {
    return this.config.role ?? this.config.name;
  }

  get pid(): number | undefined {
    return hasProcess(this.state) ? this.state.proc.pid : undefined;
  }

  get process(): ProcessHandle | undefined {
    return hasProcess(this.state) ? this.state.proc : undefined;
  }

  /**
   * While the replica is being stopped: the restart cause that stops it, or undefined
   * for a plain stop. Not stopping: null.
   */
  get stoppingFor(): ExitCause | undefined | null {
    return this.state.kind === 'stopping' ? this.pendingCause : null;
  }

  get speaksProtocol(): boolean {
    return this.session.saidHello;
  }

  get capabilities(): string[] { return this.session.capabilities; }
  get sdk(): string | undefined { return this.session.sdk; }
  get helloAt(): number | undefined { return this.session.helloAt; }
  get lastHeartbeatAt(): number | undefined { return this.session.lastHeartbeatAt; }
  get heapUsedBytes(): number | undefined { return this.session.heapUsedBytes; }
  get heapAfterGcBytes(): number | undefined { return this.session.heapAfterGcBytes; }
  get eventLoopLagMs(): number | undefined { return this.session.eventLoopLagMs; }
  get lastPongRttMs(): number | undefined { return this.session.lastPongRttMs; }

  /** Running, speaks the protocol with `tasks`, and holds no task. */
  get isIdle(): boolean {
    return this.state.kind === 'running' && this.task === undefined && this.draining === undefined && this.capabilities.includes('tasks') && this.welcomed === this.state.proc;
  }

  start(): void {
    if (hasProcess(this.state) && !this.state.proc.hasExited) return;
    this.clearTimer();
    this.draining = undefined;
    this.generation++;
    this.session.reset();
    this.knownTaskIds.clear();
    const spec = this.host.spawnSpec(this);
    const proc = this.host.createProcess ? this.host.createProcess(spec) : spawnProcess(spec); // never throws (E2BIG becomes an exit)
    this.setState({ kind: 'starting', since: Date.now(), proc });
    proc.on('message', (m) => this.onMessage(proc, m));
    proc.on('protocolError', (r, d) => this.emit('protocolError', r, d));
    proc.on('stdout', (l) => { this.lastOutputAt = Date.now(); this.emit('output', 'stdout', l); });
    proc.on('stderr', (l) => { this.lastOutputAt = Date.now(); this.emit('output', 'stderr', l); });
    proc.on('exit', (info) => this.onExit(proc, info));
    proc.once('spawn', () => {
      if (this.state.kind === 'starting' && this.state.proc === proc) {
        this.setState({ kind: 'running', since: Date.now(), proc });
        this.host.policy.onStarted(this.slot);
      }
    });
  }

  /** Stops the process (graceful, then SIGKILL after stop_timeout) and keeps it stopped. */
  async stop(reason: string): Promise<void> {
    this.clearTimer();
    if (!hasProcess(this.state)) {
      this.setState({ kind: 'stopped', since: Date.now() });
      return;
    }
    const proc = this.state.proc;
    this.setState({ kind: 'stopping', since: Date.now(), proc, reason, restart: false });
    await proc.stop(this.config.stop_timeout * 1000, reason);
  }

  /**
   * Restarts for `cause`. A running process is stopped first; the policy decides
   * the delay, so a restart triggered by health or an alert obeys the breaker.
   */
  async restart(cause: ExitCause): Promise<void> {
    if (cause.kind === 'manual') this.host.policy.reset(this.slot);
    if (hasProcess(this.state)) {
      const proc = this.state.proc;
      this.pendingCause = cause;
      this.setState({ kind: 'stopping', since: Date.now(), proc, reason: causeText(cause), restart: true });
      await proc.stop(this.config.stop_timeout * 1000, causeText(cause));
      return;
    }
    // Not running. Only a human (manual) may override an open breaker or a give-up;
    // an alert or a health finding must not turn into a restart storm.
    if (cause.kind !== 'manual' && (this.state.kind === 'circuit_open' || this.state.kind === 'failed')) return;
    this.clearTimer();
    this.count(cause.kind === 'crash' ? 'crash' : cause.kind);
    this.start();
  }

  /**
   * Restarts for `cause` once the current task has ended (drain): until then the
   * replica takes no new task. Without a task, or not running, it restarts at once.
   */
  async restartAfterTask(cause: ExitCause): Promise<void> {
    if (!this.task || this.state.kind !== 'running') return this.restart(cause);
    this.draining = cause;
  }

  /** `background reset`: closes the breaker, clears the counters, and starts a failed or circuit-open replica. */
  reset(): void {
    this.host.policy.reset(this.slot);
    if (this.state.kind === 'circuit_open' || this.state.kind === 'failed') {
      this.count('manual');
      this.start();
    }
  }

  /** Sends a ping; resolves with the round trip in ms, rejects after `timeoutMs`. */
  ping(timeoutMs: number): Promise<number> {
    const proc = this.process;
    return this.session.ping((id) => proc?.send({ type: 'ping', id }) ?? false, timeoutMs);
  }

  assign(msg: Extract<SupervisorMessage, { type: 'task.assign' }>): boolean {
    const proc = this.process;
    if (!proc || this.state.kind !== 'running') return false;
    const now = Date.now();
    this.task = { id: msg.task.id, correlationId: msg.correlation_id, assignedAt: now, lastProgressAt: now, progress: null, message: null };
    this.remember(msg.task.id);
    if (!proc.send(msg)) {
      this.task = undefined;
      return false;
    }
    this.lastAssignedAt = now;
    return true;
  }

  /** Marks the current task done (called by the supervisor on finished/failed). */
  releaseTask(): void {
    this.task = undefined;
    const drained = this.draining;
    if (drained && this.state.kind === 'running') {
      this.draining = undefined;
      void this.restart(drained);
      return;
    }
    if (this.isIdle) this.emit('idle');
  }

  private onMessage(proc: ProcessHandle, m: AgentMessage): void {
    if (!hasProcess(this.state) || this.state.proc !== proc) return;
    const now = Date.now();
    switch (m.type) {
      case 'hello': {
        const outcome = this.session.hello(m, now);
        if (outcome.kind === 'duplicate') {
          // A protocol error like a malformed line: counted and logged, and it changes nothing.
          this.emit('protocolError', outcome.reason, outcome.detail);
          return;
        }
        this.welcome(proc, m.protocol);
        break;
      }
      case 'heartbeat':
        this.session.heartbeat(m, now);
        break;
      case 'pong':
        this.session.pong(m.id);
        break;
      case 'task.started':
        if (m.name !== undefined) this.remember(m.task_id);
        else if (this.task?.id === m.task_id && m.correlation_id !== undefined && m.correlation_id !== this.task.correlationId) {
          // Refused like a malformed line (counted, logged, changes nothing); the task carries on.
          this.emit('protocolError', 'correlation_mismatch', `task.started for ${m.task_id} has correlation_id ${JSON.stringify(m.correlation_id)}, but task.assign gave ${JSON.stringify(this.task.correlationId)}: echo it unchanged or leave it out`);
          return;
        }
        break;
      case 'task.finished':
      case 'task.failed':
        if (this.task?.id !== m.task_id && !this.knownTaskIds.has(m.task_id)) {
          this.emit('protocolError', 'unknown_task', `${m.type} for ${JSON.stringify(m.task_id)}, a task this process was never assigned nor announced with task.started {name}; ignored${this.task ? ` (its task is ${this.task.id})` : ''}`);
          return;
        }
        break;
      case 'task.progress':
        if (this.task && this.task.id === m.task_id) {
          this.task.lastProgressAt = now;
          if (m.progress !== undefined) this.task.progress = m.progress;
          if (m.message !== undefined) this.task.message = m.message;
        }
        break;
      default:
        break;
    }
    this.emit('message', m);
    if (m.type === 'hello' && this.isIdle) this.emit('idle');
  }

  /**
   * Answers a hello: `welcome` with the restored checkpoint. When the checkpoint comes
   * from a database (a promise) the welcome waits for it; no task is assigned to the
   * process before its welcome (`isIdle`), and `idle` is emitted once it is sent.
   */
  private welcome(proc: ProcessHandle, protocol: number): void {
    const send = (checkpoint: unknown) => {
      if (!hasProcess(this.state) || this.state.proc !== proc) return false;
      proc.send({
        type: 'welcome',
        protocol: Math.min(PROTOCOL_VERSION, protocol),
        agent: { name: this.config.name, id: this.slot, role: this.role, replica: this.index },
        checkpoint: checkpoint ?? null,
        settings: this.host.settings(this),
      });
      this.welcomed = proc;
      return true;
    };
    const restored = this.host.restoredCheckpoint(this.slot);
    if (!(restored instanceof Promise)) {
      send(restored);
      return;
    }
    restored.then((c) => c, () => undefined).then((c) => { if (send(c) && this.isIdle) this.emit('idle'); }, () => undefined);
  }

  /** Keeps the last {@link KNOWN_TASK_IDS} task ids of this process (a late report on one is stale, not unknown). */
  private remember(id: string): void {
    this.knownTaskIds.delete(id);
    this.knownTaskIds.add(id);
    if (this.knownTaskIds.size > KNOWN_TASK_IDS) this.knownTaskIds.delete(this.knownTaskIds.values().next().value as string);
  }

  private onExit(proc: ProcessHandle, info: ExitInfo): void {
    this.session.rejectPings('agent exited');
    setImmediate(() => void proc.reapGroup()); // no orphans from a crashed agent's tree, once the restart is under way
    const state = this.state;
    if (!hasProcess(state) || state.proc !== proc) return;
    const now = Date.now();
    const uptimeMs = now - proc.startedAt;
    const intentional = state.kind === 'stopping';
    const crash: ExitCause = { kind: 'crash', code: info.code, signal: info.signal };
    const cause: ExitCause = intentional && this.pendingCause ? this.pendingCause : crash;
    const why = intentional ? this.pendingCause : crash;
    this.pendingCause = undefined;
    const lastExit: LastExit = { at: now, code: info.code, signal: info.signal, reason: info.spawnError ? `spawn_error: ${info.spawnError}` : state.kind === 'stopping' ? state.reason : `crash: ${describeExit(info)}` };
    const task = this.task;
    this.task = undefined;
    this.emit('exit', lastExit, task, why);
    if (state.kind === 'stopping' && !state.restart) {
      this.setState({ kind: 'stopped', since: now });
      return;
    }
    if (!intentional && (this.config.restart === 'never' || (this.config.restart === 'on-failure' && info.code === 0))) {
      this.setState({ kind: 'stopped', since: now });
      return;
    }
    if (cause.kind === 'manual') {
      this.count('manual');
      this.start();
      return;
    }
    this.decide(cause, uptimeMs, lastExit);
  }

  private decide(cause: ExitCause, uptimeMs: number, lastExit: LastExit): void {
    const d = this.host.policy.onFailure(this.slot, cause, uptimeMs);
    const now = Date.now();
    const reasonLabel = cause.kind === 'crash' ? 'crash' : cause.kind;
    if (d.action === 'restart') {
      if (d.delayMs <= 0) {
        this.count(reasonLabel);
        this.start();
        return;
      }
      this.setState({ kind: 'backoff', since: now, restartAt: now + d.delayMs, lastExit });
      this.schedule(d.delayMs, () => { this.count(reasonLabel); this.start(); });
    } else if (d.action === 'circuit_open') {
      // The supervisor makes the trial start when the policy's dueTrials() names us.
      this.setState({ kind: 'circuit_open', since: now, retryAt: d.retryAt, lastExit });
      this.emit('escalate', 'circuit_open', d.reason);
    } else {
      this.setState({ kind: 'failed', since: now, reason: d.reason, lastExit });
      this.emit('escalate', 'restarts_exhausted', d.reason);
    }
  }

  /** The breaker went half-open: make the one trial start (only from circuit_open or failed). */
  trialStart(): boolean {
    if (this.state.kind !== 'circuit_open' && this.state.kind !== 'failed') return false;
    this.count('crash');
    this.start();
    return true;
  }

  private count(reason: string): void {
    this.restarts[reason] = (this.restarts[reason] ?? 0) + 1;
  }

  private schedule(ms: number, fn: () => void): void {
    this.clearTimer();
    this.timer = setTimeout(fn, ms);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private setState(next: ReplicaState): void {
    const prev = this.state;
    this.state = next;
    this.emit('state', next, prev);
  }
}

/** How many task ids per process a late `task.finished` / `task.failed` may name without being `unknown_task`. */
export const KNOWN_TASK_IDS = 1000;

export function causeText(c: ExitCause): string {
  switch (c.kind) {
    case 'crash': return `crash (${c.signal ? `signal ${c.signal}` : `exit code ${c.code}`})`;
    case 'unhealthy': return `unhealthy: ${c.finding}`;
    case 'manual': return 'manual restart';
    case 'alert': return `alert ${c.alertname}`;
  }
}
