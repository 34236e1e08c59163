import { EventEmitter } from 'node:events';
import { SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { AgentConfig, Config } from '../config/schema.js';
import type { AgentMessage } from '../protocol/messages.js';
import { ENV } from '../protocol/messages.js';
import { DuplicateTaskError, QueueFullError, type AttemptCause, type LlmUsage, type SubmitInput, type Task } from '../queue/Task.js';
import { queueOptions } from '../queue/queueOptions.js';
import { TaskQueue } from '../queue/TaskQueue.js';
import { sqliteQueueStore, type QueueStore } from '../queue/QueueStore.js';
import { isTransientPgError } from '../queue/pg/transientPgError.js';
import { sqliteCheckpoints, type Checkpoints } from '../store/Checkpoints.js';
import { BackoffRestartPolicy } from '../recovery/BackoffRestartPolicy.js';
import type { ExitCause, RestartPolicy } from '../recovery/RestartPolicy.js';
import { CheckpointStore } from '../store/CheckpointStore.js';
import { openDatabase, type Db } from '../store/Database.js';
import { DiskFullError } from '../store/DiskFullError.js';
import { DiskWatch } from '../store/DiskWatch.js';
import { EventLog } from '../store/EventLog.js';
import { RunLedger } from '../store/RunLedger.js';
import type { Logger } from '../telemetry/logger.js';
import type { LogStore } from '../telemetry/LogStore.js';
import { contextFromTraceparent, traceparentOf } from '../telemetry/tracing.js';
import type { ProcessHandle } from './AgentProcess.js';
import { OrphanReaper } from './OrphanReaper.js';
import type { PerTaskAgent } from './PerTaskAgent.js';
import { perTaskTarget, runsOf, unenforceableLimits, unspawnable } from './perTaskTargets.js';
import { createPerTaskAgent, storedSession } from './perTaskWiring.js';
import { PromptFiles } from './promptFiles.js';
import { recoverInProgress, type TaskOutputReader } from './recoverInProgress.js';
import { causeText, type Replica } from './Replica.js';
import { createServiceReplica } from './replicaWiring.js';
import { RepeatedWarnings } from './RepeatedWarnings.js';
import { watchDisk } from './diskWiring.js';
import { ResourceSampler } from './ResourceSampler.js';
import { RunBook } from './RunBook.js';
import type { StateDir } from './StateDir.js';
import { AgentControlError, UnknownAgentError, UnknownRoleError } from './errors.js';
import { LlmReportQueries, type LlmReport } from '../store/llmReport.js';
import { BudgetGate, limitsOf, type Hold } from './BudgetGate.js';
import { RoleBackoff } from './RoleBackoff.js';
import { WakeTimer } from './WakeTimer.js';
import { AgentControl } from './AgentControl.js';
import { FleetReload, type ReloadResult } from './FleetReload.js';
import { Dispatcher } from './Dispatcher.js';
import type { PgFleet } from './PgFleet.js';
import { TaskWrites } from './TaskWrites.js';
import { LostLeases } from './LostLeases.js';
import { withoutDaemonEnv } from './daemonEnv.js';

export type TaskOutcome = 'completed' | 'failed' | 'dead_lettered' | 'cancelled';

/** How one per_task run (one process for one attempt of a task) ended. */
export type RunOutcome = 'completed' | 'failed' | 'released';

/** One per_task run, as the telemetry layers see it. `slot` is the run's slot index ("0", "1", …). */
export interface RunInfo {
  agent: string;
  role: string;
  slot: string;
  taskId: string;
  /** The task's traceparent (the run span's parent). */
  traceparent: string | null;
  /** 1-based attempt number of the task this run serves. */
  attempt: number;
  startedAt: number;
}

/** Domain events the telemetry, health and UI layers subscribe to. */
export interface SupervisorEvents {
  taskSubmitted: [Task];
  taskAssigned: [Task, string];
  taskFinished: [{ task: Task; agent: string; role: string; outcome: TaskOutcome; durationMs: number; traceId: string }];
  taskProgress: [{ taskId: string; agent: string }];
  llmUsage: [{ agent: string; role: string; llm: LlmUsage }];
  restart: [{ agent: string; slot: string; reason: string }];
  agentExit: [{ agent: string; slot: string; reason: string }];
  protocolError: [{ agent: string; reason: string; detail: string }];
  message: [{ agent: string; slot: string; message: AgentMessage }];
  /** A per_task run's process was spawned. */
  runStarted: [RunInfo];
  /**
   * A per_task run ended. `cause` says why a run that did not complete ended
   * (timeout, stalled, agent_failed, operator_restart, …); `llm` is this run's
   * own usage (not the task's total); `error` is the human reason.
   */
  runFinished: [RunInfo & { outcome: RunOutcome; cause?: AttemptCause | undefined; durationMs: number; llm?: LlmUsage | undefined; error?: string | undefined }];
  /** A per_task run's adapter saw a turn: turns so far, its summary, and tokens so far when the stream carries them. */
  runProgress: [RunInfo & { turns: number; message: string; usage?: Record<string, number | undefined> | undefined; costUsd?: number | undefined }];
  /** The API rate-limited a run of `role`: no new run of the role starts until `until` (epoch ms). Once per backoff, not per run. */
  roleBackoff: [{ role: string; agent: string; until: number; delayMs: number; streak: number; detail: string }];
  /** llm_progress caught a tool loop: a per_task run was killed, or a service replica was told to cancel its task. */
  toolLoop: [{ agent: string; role: string; slot: string; taskId: string; detail: string }];
  /** A per_task run printed a stdout line over its agent's `max_result_bytes` (cut; its usage read from its ends). */
  stdoutOversized: [{ agent: string; role: string; slot: string; taskId: string; bytes: number; limit: number }];
  /** Restart attempts exhausted or a breaker opened: a human should look. */
  /** start() finished: every agent was started and the dispatcher runs. */
  started: [];
  escalation: [{ agent: string; role: string; slot: string; reason: 'restarts_exhausted' | 'circuit_open' | 'budget_exceeded'; detail: string; at: number }];
  /** A role's rolling LLM budget (or the fleet's) is spent: no new run of it starts until `until`. Once per hold. */
  budgetHold: [{ role: string; agent: string; scope: 'role' | 'fleet'; spentUsd: number; limitUsd: number; until: number; detail: string }];
}

export interface SupervisorOptions {
  stateDir: StateDir;
  logger: Logger;
  logStore?: LogStore | undefined;
  policy?: RestartPolicy | undefined;
  tracer?: Tracer | undefined;
  /** Environment passed to agents (defaults to process.env). */
  baseEnv?: NodeJS.ProcessEnv | undefined;
  /** The state directory's disk, shared with the log store (default: a watch of its own). */
  disk?: DiskWatch | undefined;
  /** Reads per_task runs' stored stdout, to complete a task whose run finished while no supervisor was alive. */
  taskOutput?: TaskOutputReader | undefined;
  /** The PostgreSQL connection URL when `background.queue.backend` is postgres (resolved from url_env / url_file at the edge). */
  pgUrl?: string | undefined;
}

/**
 * Owns the roles and their replicas, the durable queue and the stores. It
 * dispatches queued tasks to idle service replicas and starts per_task processes
 * up to `max_concurrent`. Crash handling is delegated: a replica asks the
 * RestartPolicy; this class only re-queues the task a dead replica held.
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly replicas: Replica[] = [];
  readonly perTask: PerTaskAgent[] = [];
  readonly sampler = new ResourceSampler();
  readonly startedAt = Date.now();
  readonly policy: RestartPolicy;
  /** Whether the state directory's disk takes writes; stores report refusals to it. */
  readonly disk: DiskWatch;
  /** Repeated warnings about one agent (malformed protocol lines, refused checkpoints), rate-limited. */
  readonly warnings: RepeatedWarnings;
  /** The `{prompt_file}` files of per_task runs (`<state_dir>/prompts/`). */
  readonly promptFiles: PromptFiles;
  /** The task queue: the state directory's SQLite, or the fleet's PostgreSQL (`background.queue.backend`). */
  queue!: QueueStore;
  checkpoints!: Checkpoints;
  /** Each task's queue writes in order; outcomes held while the database is down (PostgreSQL). */
  writes!: TaskWrites;
  /** The SQLite queue behind `queue` (backend sqlite): its disk-full deferrals and progress batch. */
  /** @internal */
  sqliteQueue: TaskQueue | undefined;
  /** The fleet's PostgreSQL (backend postgres). */
  private fleet: PgFleet | undefined;
  /** Tasks whose lease this supervisor lost (another supervisor runs them now): their local outcome is not recorded. */
  private readonly lostLeases = new LostLeases(this);
  private readonly dispatcher: Dispatcher;
  events!: EventLog;
  /** per_task runs: in flight (from the run events) and finished (durable). */
  runBook!: RunBook;
  /** Per-agent stop and start by an operator, kept across supervisor restarts. */
  control!: AgentControl;
  private db: Db | undefined;
  private reportQueries: LlmReportQueries | undefined;
  private readonly reaper: OrphanReaper;
  /** @internal */
  readonly tracer: Tracer;
  private sampleTimer: NodeJS.Timeout | undefined;
  private pumpTimer: NodeJS.Timeout | undefined;
  /** Rolling LLM budgets per role and for the fleet (`llm.budgets`); filled from the run ledger at start. */
  readonly budgets: BudgetGate;
  /** Roles held by a spent budget now, with why (for the transitions' log lines and `status`). */
  readonly budgetHolds = new Map<string, Hold>();
  /** Roles held back because the API rate-limited their runs (see RoleBackoff). */
  readonly roleBackoff: RoleBackoff;
  /** Wakes the dispatcher when the earliest task waiting for its retry backoff is due. */
  private readonly wake = new WakeTimer(() => this.pump());
  private readonly reloader: FleetReload;
  /** @internal */
  stopping = false;
  ready = false;

  private cfg: Readonly<Config>;

  constructor(config: Readonly<Config>, private readonly opts: SupervisorOptions) {
    super();
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the dispatcher's host reads the live fields
    const sup = this;
    this.cfg = config;
    this.reloader = new FleetReload(this);
    this.setMaxListeners(50);
    const rl = config.background.llm.rate_limit_backoff;
    this.roleBackoff = new RoleBackoff(rl.base * 1000, rl.max * 1000);
    const b = config.background.llm.budgets;
    this.budgets = new BudgetGate({ fleet: limitsOf(b.fleet), roles: new Map(b.roles.map((r) => [r.role, limitsOf(r)])) });
    this.policy = opts.policy ?? BackoffRestartPolicy.fromConfig(config.background.monitoring.recovery);
    this.tracer = opts.tracer ?? trace.getTracer('agentic-supervisor');
    this.disk = opts.disk ?? new DiskWatch(opts.stateDir.root);
    this.warnings = new RepeatedWarnings(opts.logger);
    this.reaper = new OrphanReaper(opts.stateDir.pidFile, (err) => {
      const e = DiskFullError.from(err, opts.stateDir.root, 'write the pid file');
      if (e) this.disk.report('pid_file', e);
    });
    watchDisk(this);
    this.promptFiles = new PromptFiles(opts.stateDir.root);
    this.dispatcher = new Dispatcher({
      get replicas() { return sup.replicas; },
      get perTask() { return sup.perTask; },
      get queue() { return sup.queue; },
      get log() { return sup.log; },
      get stopping() { return sup.stopping; },
      heldUntil: (p, now) => this.roleBackoff.heldUntil(p.role, now) ?? this.budgetHold(p, now),
      assign: (r, task) => this.assign(r, task),
      runPerTask: (p, task) => this.runPerTask(p, task),
      giveBack: async (task) => { await this.queue.release(task.id, 'supervisor_stopped', 'taken while the supervisor began to stop'); },
    }, this.wake);
  }

  /** The config the fleet runs: the one it started with, or the last one a reload applied. */
  get config(): Readonly<Config> {
    return this.cfg;
  }

  get bg() {
    return this.config.background;
  }

  /** @internal A reload (FleetReload) swaps the config; it has checked that only `background.agents` differ. */
  adoptConfig(next: Readonly<Config>): void {
    this.cfg = next;
  }

  get log(): Logger {
    return this.opts.logger;
  }

  get roles(): string[] {
    return [...new Set(this.bg.agents.map((a) => a.role ?? a.name))];
  }

  /** Opens the stores, cleans up after a crashed predecessor, and starts every agent. */
  async start(): Promise<void> {
    const q = this.bg.queue;
    const refused = (store: string) => (e: DiskFullError) => this.disk.report(store, e);
    // PostgreSQL first: a server that does not answer fails the start before anything is opened.
    const fleet = (this.fleet = q.backend === 'postgres' ? await this.openFleet() : undefined);
    this.db = openDatabase(this.opts.stateDir.dbFile);
    if (fleet) {
      this.queue = fleet.queue;
      this.checkpoints = fleet.checkpoints;
      this.writes = new TaskWrites({ ordered: true, transient: isTransientPgError, log: this.log });
    } else {
      this.sqliteQueue = new TaskQueue(this.db, { ...queueOptions(q), onDiskFull: refused('queue') });
      this.queue = sqliteQueueStore(this.sqliteQueue);
      this.checkpoints = sqliteCheckpoints(new CheckpointStore(this.db, this.bg.protocol.max_checkpoint_bytes, this.bg.protocol.checkpoint_history, Date.now, refused('checkpoints')));
      this.writes = new TaskWrites({ ordered: false, log: this.log });
    }
    this.events = new EventLog(this.db, undefined, Date.now, refused('events'));
    this.runBook = new RunBook(this, new RunLedger(this.db, Math.max(1000, q.history_retention * 5), refused('runs')));
    this.control = new AgentControl(this, this.db);
    if (this.budgets.enabled) {
      // A restart does not reset a rolling budget: the last day's spending comes back from the ledger.
      for (const r of this.runBook.ledger.costsSince(Date.now() - 86_400_000)) this.budgets.spend(r.role, r.finished_at, r.cost_usd);
      this.on('runFinished', (r) => this.budgets.spend(r.role, r.startedAt + Math.max(0, r.durationMs), r.llm?.total_cost_usd));
    }

    const reaped = await this.reaper.reapPrevious();
    if (reaped.length) this.log.warn({ pids: reaped }, `terminated ${reaped.length} agent process group(s) left by a previous supervisor`);
    this.promptFiles.clear();
    // SQLite: every task in progress was this supervisor's. PostgreSQL: only those whose lease this supervisor id holds.
    await recoverInProgress(this, this.fleet ? await this.fleet.queue.adoptLeases() : await this.queue.inProgress(), this.opts.taskOutput);
    this.fleet?.start();

    for (const a of this.bg.agents) {
      if (a.mode === 'per_task') this.perTask.push(this.createPerTask(a));
      else for (let i = 0, n = this.control.replicaCount(a); i < n; i++) this.replicas.push(this.createReplica(a, i));
    }
    this.control.startFleet(); // what an operator stopped stays stopped
    this.writePidFile();

    const sampleMs = this.bg.monitoring.sample_interval * 1000;
    this.sampleTimer = setInterval(() => void this.sampleResources(), sampleMs);
    this.sampleTimer.unref();
    this.pumpTimer = setInterval(() => {
      for (const id of this.policy.dueTrials?.() ?? []) {
        const r = this.replicas.find((x) => x.slot === id);
        if (r?.trialStart()) this.log.warn({ agent: r.config.name, role: r.role, replica: r.slot }, `${r.slot}: circuit half-open, making one trial start`);
      }
      if (this.disk.state.kind === 'ok') this.sqliteQueue?.flushDeferred();
      this.pump();
      void this.prune();
    }, 1000);
    this.pumpTimer.unref();
    void this.sampleResources();
    this.ready = true;
    this.events.record(null, 'supervisor', { message: `started (pid ${process.pid})`, pid: process.pid });
    this.emit('started');
    this.log.info({ agents: this.bg.agents.length, replicas: this.replicas.length, per_task: this.perTask.length }, 'supervisor started');
  }

  /** Connects to the fleet's PostgreSQL (and migrates it). @throws PgConnectionError, PgSchemaTooNewError */
  private async openFleet(): Promise<PgFleet> {
    if (!this.opts.pgUrl) throw new Error('background.queue.backend is postgres but no connection URL was given');
    // The PostgreSQL driver and the fleet's stores load only for a postgres backend (3 MB of RSS a SQLite supervisor does not carry).
    const { PgFleet, supervisorIdOf } = await import('./PgFleet.js');
    const fleet = await PgFleet.open({
      url: this.opts.pgUrl, bg: this.bg, supervisorId: supervisorIdOf(this.opts.stateDir.root), log: this.log,
      onLeaseLost: (err) => this.lostLeases.lost(err), onTask: () => this.pump(),
    });
    this.log.info({ backend: 'postgres', database: fleet.where, supervisor_id: fleet.queue.supervisorId, lease_seconds: fleet.leaseMs / 1000 }, `task queue and checkpoints on PostgreSQL at ${fleet.where} (supervisor id ${fleet.queue.supervisorId})`);
    return fleet;
  }

  /** Stops every agent (SIGTERM, then SIGKILL after its stop_timeout) and closes the stores. */
  async stop(reason = 'supervisor stopping'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.ready = false;
    clearInterval(this.sampleTimer);
    clearInterval(this.pumpTimer);
    this.wake.disarm();
    this.sampler.close();
    this.log.info({ reason }, 'stopping agents');
    await Promise.all([...this.replicas.map((r) => r.stop(reason)), ...this.perTask.map((p) => p.stopAll(reason))]);
    await this.dispatcher.settled();
    this.writePidFile();
    this.warnings.flush();
    if (this.db) {
      this.sqliteQueue?.flushProgress();
      this.events.record(null, 'supervisor', { message: `stopped (${reason})`, pid: process.pid });
      this.sqliteQueue?.flushDeferred();
    }
    // The outcomes of the runs just stopped (release, fail), and any held while the database was down.
    await this.writes?.close(this.fleet ? 10_000 : 1000);
    await this.fleet?.close();
    this.fleet = undefined;
    this.disk.close();
    this.db?.close();
    this.db = undefined;
    this.log.info('all agents stopped');
  }

  /**
   * Queues a task for `role` and dispatches it if a replica is free.
   * @throws UnknownRoleError, QueueFullError, DuplicateTaskError, ArgvTooLongError (no agent of the role could start its command),
   *   TaskLimitsError (the task's own max_turns / max_cost_usd, and an agent of the role that cannot see turns or cost)
   */
  async submit(input: Omit<SubmitInput, 'correlation_id' | 'traceparent'>): Promise<Task> {
    if (!this.roles.includes(input.role)) throw new UnknownRoleError(input.role, this.roles);
    const refused = unspawnable(this.bg, this.perTask, input) ?? unenforceableLimits(this.bg, input);
    if (refused) throw refused;
    const span = this.tracer.startSpan('task.submit', { attributes: { 'agentic.role': input.role, 'agentic.task.title': input.title } });
    try {
      const traceId = span.spanContext().traceId;
      const task = await this.queue.submit({ ...input, correlation_id: traceId, traceparent: traceparentOf(span) });
      span.setAttribute('agentic.task.id', task.id);
      this.tracer.startSpan('task.queue', { attributes: { 'agentic.task.id': task.id } }, trace.setSpan(contextFromTraceparent(null), span)).end();
      this.log.info({ task_id: task.id, role: task.role, trace_id: traceId, priority: task.priority }, `task ${task.id} submitted`);
      this.emit('taskSubmitted', task);
      setImmediate(() => this.pump());
      return task;
    } catch (err) {
      if (err instanceof QueueFullError || err instanceof DuplicateTaskError) span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
      throw err;
    } finally {
      span.end();
    }
  }

  /** `fleet` when the queue is the fleet's PostgreSQL (its figures count every supervisor's tasks). */
  get queueScope(): 'local' | 'fleet' {
    return this.bg.queue.backend === 'postgres' ? 'fleet' : 'local';
  }

  get stateDirRoot(): string {
    return this.opts.stateDir.root;
  }

  /** Cancels a pending or running task; a running one is told to stop (`task.cancel`, or its per_task process is stopped). */
  async cancel(taskId: string): Promise<boolean> {
    const task = await this.queue.get(taskId);
    if (!task || !(await this.queue.cancel(taskId))) return false;
    for (const r of this.replicas) {
      if (r.task?.id === taskId) {
        r.process?.send({ type: 'task.cancel', task_id: taskId, reason: 'cancelled' });
        r.releaseTask();
      }
    }
    for (const p of this.perTask) void p.cancel(taskId); // kills the run's process group
    this.finishTask(task, task.assigned_to ?? '', task.role, 'cancelled', task.started_at ? Date.now() - task.started_at : 0);
    this.log.info({ task_id: taskId, trace_id: task.correlation_id }, `task ${taskId} cancelled`);
    return true;
  }

  /**
   * `background retry`: a failed (dead-lettered) or cancelled task goes back to
   * pending with its attempts reset; its history is kept and the retry recorded.
   * @throws UnknownTaskError, TaskStateError (see TaskQueue.retry)
   */
  async retry(taskId: string, reason?: string): Promise<Task> {
    const task = await this.queue.retry(taskId, reason);
    this.log.info({ task_id: taskId, trace_id: task.correlation_id, reason }, `task ${taskId} retried by the operator: pending again, attempts reset`);
    setImmediate(() => this.pump());
    return task;
  }

  /**
   * `background priority`: a pending task gets another priority (1..10, higher first).
   * @throws UnknownTaskError, TaskStateError, RangeError (see TaskQueue.reprioritise)
   */
  async reprioritise(taskId: string, priority: number): Promise<{ task: Task; previous: number }> {
    const r = await this.queue.reprioritise(taskId, priority);
    this.log.info({ task_id: taskId, trace_id: r.task.correlation_id, priority, previous_priority: r.previous }, `task ${taskId} re-prioritised by the operator: ${r.previous} → ${priority}`);
    return r;
  }

  /**
   * Restarts every replica of an agent name, or one replica by slot (`qaa-0`). For a
   * per_task agent (`deva_ts`, or one slot `deva_ts-1`) it ends the running runs:
   * their tasks go back to the queue without using an attempt and start again
   * (resumed) as slots free up. Resolves with the slots, once per_task runs have ended.
   * Replicas an operator stopped are left stopped.
   * @throws UnknownAgentError; AgentControlError (`agent_stopped`) when every replica named is stopped by an operator
   */
  async restart(nameOrSlot: string, cause: ExitCause = { kind: 'manual' }, opts: { afterTask?: boolean } = {}): Promise<string[]> {
    const per = perTaskTarget(this.perTask, nameOrSlot);
    if (per) {
      const detail = cause.kind === 'alert' ? `restarted by alert ${cause.alertname}` : 'restarted by the operator';
      const runs = per.agent.restart(detail, per.slot);
      this.log.info({ agent: per.agent.config.name, replicas: runs.map((r) => r.slotId), reason: causeText(cause) }, `restart requested for ${nameOrSlot}: ending ${runs.length} run(s)`);
      await Promise.all(runs.map((r) => r.ended));
      return runs.map((r) => r.slotId);
    }
    const named = this.replicas.filter((r) => r.slot === nameOrSlot || r.config.name === nameOrSlot);
    if (!named.length) throw new UnknownAgentError(nameOrSlot, [...this.bg.agents.map((a) => a.name), ...this.replicas.map((r) => r.slot)]);
    // An operator's stop stands: no restart (manual, alert or health) starts a stopped replica; `background start` does.
    const targets = named.filter((r) => !this.control.holds(r));
    if (!targets.length) throw new AgentControlError('agent_stopped', `${nameOrSlot} is stopped (background stop), and a restart does not start it: start it with background start ${nameOrSlot}`);
    const draining = opts.afterTask ? targets.filter((r) => r.task && r.state.kind === 'running') : [];
    this.log.info({ agent: nameOrSlot, reason: causeText(cause), drain: draining.length > 0 || undefined }, draining.length
      ? `restart requested for ${nameOrSlot} after its current task: ${draining.map((r) => `${r.slot} finishes ${r.task!.id}`).join(', ')} and takes no new task`
      : `restart requested for ${nameOrSlot}`);
    await Promise.all(targets.map((r) => (opts.afterTask ? r.restartAfterTask(cause) : r.restart(cause))));
    return targets.map((r) => r.slot);
  }

  /**
   * `background reload`: applies a changed config to the running fleet (see FleetReload).
   * @throws ReloadRefusedError (a setting outside background.agents changed; nothing applied), AgentControlError (`not_running`)
   */
  reload(next: Readonly<Config>, file?: string): Promise<ReloadResult> {
    return this.reloader.apply(next, file);
  }

  /** The runs a restart of `nameOrSlot` would end, as `{replica, task_id}`; undefined when it names no per_task agent. */
  perTaskRunsFor(nameOrSlot: string): { replica: string; task_id: string }[] | undefined {
    const t = perTaskTarget(this.perTask, nameOrSlot);
    return t && runsOf(t);
  }

  /** Closes the breaker of every replica of `nameOrSlot` and starts those that were down. */
  reset(nameOrSlot: string): string[] {
    const targets = this.replicas.filter((r) => r.slot === nameOrSlot || r.config.name === nameOrSlot);
    if (!targets.length) throw new UnknownAgentError(nameOrSlot, [...this.bg.agents.map((a) => a.name), ...this.replicas.map((r) => r.slot)]);
    for (const r of targets) r.reset();
    this.log.info({ agent: nameOrSlot }, `circuit breaker reset for ${nameOrSlot}`);
    return targets.map((r) => r.slot);
  }

  /** Asks the dispatcher for a pass (see {@link Dispatcher}): pending tasks to idle replicas and free per_task slots. */
  pump(): void {
    if (this.stopping || !this.queue) return;
    this.dispatcher.pump();
  }

  /** History retention (once a second): the oldest finished tasks go, and the task checkpoints of those gone. */
  private async prune(): Promise<void> {
    try {
      if ((await this.queue.pruneHistory()) > 0) await this.checkpoints.pruneTaskCheckpoints();
    } catch (err) {
      if (!(err instanceof DiskFullError)) this.log.debug({ err: (err as Error).message }, 'pruning the task history failed; the next tick tries again');
    }
  }

  /** @internal Whether this supervisor lost its lease on `taskId` (another supervisor runs it, or it was cancelled). */
  leaseGone(taskId: string): boolean {
    return this.lostLeases.has(taskId);
  }

  /** The LLM report over runs that finished in [since, until), with the `stories` most expensive stories (`GET /api/v1/llm`). */
  llmReport(since: number, until: number, stories?: number): LlmReport {
    if (!this.db) throw new Error('the supervisor has not started');
    this.reportQueries ??= new LlmReportQueries(this.db);
    return this.reportQueries.report(since, until, stories);
  }

  /**
   * Whether the rolling budget of `p`'s role (or the fleet's) is spent: the time it
   * frees up, or undefined. Logs, records and escalates the moment a role becomes
   * held, and logs when it may start runs again.
   */
  private budgetHold(p: PerTaskAgent, now: number): number | undefined {
    if (!this.budgets.enabled) return undefined;
    const live = (role?: string) => this.perTask.filter((a) => role === undefined || a.role === role)
      .reduce((sum, a) => sum + [...a.runs.values()].reduce((s, r) => s + (r.guard?.spent.costUsd ?? 0), 0), 0);
    const hold = this.budgets.hold(p.role, now, live);
    const was = this.budgetHolds.get(p.role);
    if (!hold) {
      if (was) {
        this.budgetHolds.delete(p.role);
        this.log.info({ agent: p.config.name, role: p.role }, `role ${p.role} may start runs again: its LLM spending is back under ${was.scope === 'role' ? 'its' : 'the fleet\'s'} ${was.limit.key} budget`);
      }
      return undefined;
    }
    this.budgetHolds.set(p.role, hold);
    if (!was) {
      const detail = `${hold.text}: no new run of ${p.role} starts until about ${new Date(hold.freesAt).toISOString()}; its tasks wait`;
      this.log.error({ agent: p.config.name, role: p.role, alert: 'budget_exceeded', scope: hold.scope, spent_usd: hold.spentUsd, limit_usd: hold.limit.usd }, detail);
      try {
        this.events?.record(p.config.name, 'budget_exceeded', { role: p.role, scope: hold.scope, spent_usd: hold.spentUsd, limit_usd: hold.limit.usd, until: hold.freesAt });
      } catch {
        // a full disk: the log line above says it
      }
      this.emit('budgetHold', { role: p.role, agent: p.config.name, scope: hold.scope, spentUsd: hold.spentUsd, limitUsd: hold.limit.usd, until: hold.freesAt, detail });
      this.emit('escalation', { agent: p.config.name, role: p.role, slot: p.role, reason: 'budget_exceeded', detail, at: now });
    }
    return hold.freesAt;
  }

  /**
   * A run of `agent` (role `role`) was rate-limited by the API: the role backs off (no
   * new run starts until the backoff ends; the dispatcher wakes then). Logged and
   * recorded once per backoff, however many runs of the storm report it.
   */
  rateLimited(role: string, agent: string, detail: string): void {
    const d = this.roleBackoff.rateLimited(role, Date.now());
    if (!d.started) return;
    const secs = Math.round(d.delayMs / 100) / 10;
    this.log.warn({ agent, role, backoff_ms: d.delayMs, streak: d.streak, detail }, `role ${role}: the API is rate-limiting its runs (${detail}); no new run of ${role} for ${secs} s (backoff ${d.streak} in a row, llm.rate_limit_backoff); its tasks wait, their attempts are given back`);
    try {
      this.events?.record(agent, 'rate_limited', { role, until: d.until, delay_ms: d.delayMs, streak: d.streak, detail });
    } catch {
      // a full disk: the log line above says it
    }
    this.emit('roleBackoff', { role, agent, until: d.until, delayMs: d.delayMs, streak: d.streak, detail });
    this.wake.arm(Math.min(this.wake.armedFor ?? d.until, d.until));
  }

  private assign(r: Replica, task: Task): void {
    const parent = contextFromTraceparent(task.traceparent);
    const span = this.tracer.startSpan('task.dispatch', { attributes: { 'agentic.task.id': task.id, 'agentic.agent': r.config.name, 'agentic.replica': r.slot, 'agentic.attempt': task.attempt } }, parent);
    const ok = r.assign({
      type: 'task.assign',
      task: { id: task.id, role: task.role, title: task.title, prompt: task.prompt ?? undefined, payload: task.payload ?? undefined, priority: task.priority, attempt: task.attempt },
      correlation_id: task.correlation_id,
      traceparent: traceparentOf(span),
    });
    span.end();
    if (!ok) {
      void this.writes.outcome(task.id, `record that task ${task.id} could not be delivered`, () => this.queue.fail(task.id, `could not deliver to ${r.slot}`, true, undefined, 'crashed'))
        .catch((err: Error) => this.log.error({ task_id: task.id, err: err.message }, `could not record that task ${task.id} could not be delivered: ${err.message}`));
      return;
    }
    this.log.info({ agent: r.config.name, role: r.role, replica: r.slot, task_id: task.id, trace_id: task.correlation_id, attempt: task.attempt }, `task ${task.id} assigned to ${r.slot}`);
    this.emit('taskAssigned', task, r.slot);
  }

  private async runPerTask(p: PerTaskAgent, task: Task): Promise<void> {
    const session = await storedSession(this, task.id);
    if (this.stopping) {
      await this.queue.release(task.id, 'supervisor_stopped', 'taken while the supervisor began to stop');
      return;
    }
    // Like a service replica's task, a per_task run is dispatched under its own span; the run
    // (its RunInfo.traceparent, its TRACEPARENT) is that span's child.
    const span = this.tracer.startSpan('task.dispatch', { attributes: { 'agentic.task.id': task.id, 'agentic.agent': p.config.name, 'agentic.attempt': task.attempt } }, contextFromTraceparent(task.traceparent));
    const run = p.run({ ...task, traceparent: traceparentOf(span) }, session);
    span.end();
    void this.writes.then(task.id, () => this.queue.setAttemptReplica(task.id, run.slot)).catch(() => undefined); // only a label of the attempt
    this.log.info({ agent: p.config.name, role: p.role, replica: run.slotId, task_id: task.id, trace_id: task.correlation_id, pid: run.proc.pid, attempt: task.attempt }, `task ${task.id} started as ${run.slotId} (attempt ${task.attempt})`);
    this.emit('taskAssigned', task, p.config.name);
    this.writePidFile();
  }

  /** @internal */
  finishTask(task: Task, agent: string, role: string, outcome: TaskOutcome, durationMs: number): void {
    this.emit('taskFinished', { task, agent, role, outcome, durationMs, traceId: task.correlation_id });
  }

  /** A short span in a task's trace marking an event (retry, restart) — visible next to task.run. */
  /** @internal */
  traceEvent(name: string, traceparent: string | null | undefined, attributes: Record<string, string | number>): void {
    const span = this.tracer.startSpan(name, { attributes }, contextFromTraceparent(traceparent));
    span.addEvent(name, attributes);
    span.end();
  }

  /** @internal */
  createReplica(a: AgentConfig, index: number): Replica {
    return createServiceReplica(this, a, index, this.opts.logStore);
  }

  /** @internal */
  createPerTask(a: AgentConfig): PerTaskAgent {
    return createPerTaskAgent(this, a, this.opts.logStore);
  }

  /** @internal */
  agentEnv(a: AgentConfig, extra: Record<string, string>): Record<string, string> {
    const env = withoutDaemonEnv(this.opts.baseEnv ?? process.env); // not what the launcher set for the daemon alone
    return { ...env, ...a.env, [ENV.AGENT_NAME]: a.name, [ENV.AGENT_ROLE]: a.role ?? a.name, ...extra };
  }

  /** Every live agent process (service replicas and per_task runs). */
  processes(): { slot: string; proc: ProcessHandle }[] {
    const out: { slot: string; proc: ProcessHandle }[] = [];
    for (const r of this.replicas) if (r.process?.pid) out.push({ slot: r.slot, proc: r.process });
    for (const p of this.perTask) for (const run of p.runs.values()) if (run.proc.pid) out.push({ slot: run.slotId, proc: run.proc });
    return out;
  }

  /** @internal */
  writePidFile(): void {
    this.reaper.record(this.processes().map(({ slot, proc }) => ({ slot, pid: proc.pid as number, start_time: proc.procStartTime ?? 0 })));
  }

  private async sampleResources(): Promise<void> {
    try {
      await this.sampler.sample(this.processes().map((p) => p.proc.pid as number));
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'resource sampling failed');
    }
  }
}
