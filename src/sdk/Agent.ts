import { randomUUID } from 'node:crypto';
import type { AgentMessageInput } from '../protocol/messages.js';
import { AgentSdkError } from './errors.js';
import { Heartbeat } from './Heartbeat.js';
import type { Logger, LogLevel } from './logger.js';
import { probeUrl, type ProbeResult } from './probe.js';
import { runWork, type TaskContext } from './runWork.js';
import { serializeCheckpoint } from './serializeCheckpoint.js';
import { ShutdownHooks, within, type ShutdownHook, type ShutdownInfo } from './ShutdownHooks.js';
import type { IncomingMessage } from './supervisorMessage.js';
import { TaskAbort } from './TaskAbort.js';
import { TaskRunner, type TaskHandler } from './TaskRunner.js';

export interface AgentIdentity {
  name: string;
  id: string;
  role: string;
  replica: number;
}

/** Everything `connect()` resolved; see ConnectOptions for the meaning of each option. */
export interface AgentInit {
  identity: AgentIdentity;
  restoredState: unknown;
  /** `task_steps`: the supervisor watches `task.step` (ctx.step() sends them); absent: it does not. */
  settings: { heartbeat_interval_ms: number; max_checkpoint_bytes: number; task_steps?: boolean };
  logger: Logger;
  /** Null in no-op mode. */
  transport: { send(message: AgentMessageInput): void; close(): Promise<void> } | null;
  exitOnShutdown: boolean;
  exit: (code: number) => void;
  shutdownTimeoutMs: number;
  handleSignals: boolean;
}

/**
 * The agent's side of the protocol. Get one from `connect()`. In no-op mode
 * (`connected === false`) every method works and nothing is sent.
 */
export class Agent {
  readonly name: string;
  readonly id: string;
  readonly role: string;
  readonly replica: number;
  /** The last checkpoint the supervisor stored for this agent, or null. */
  readonly restoredState: unknown;
  /** JSON logger on stdout bound to `{agent, agent_id, role}`. */
  readonly logger: Logger;
  /** Resolves when the agent has shut down (before `exit` is called). */
  readonly closed: Promise<ShutdownInfo>;
  private readonly runner: TaskRunner;
  private readonly hooks: ShutdownHooks;
  private readonly heartbeat: Heartbeat | undefined;
  private readonly tracked = new Set<TaskAbort>();
  private readonly closers: (() => Promise<void>)[] = [];
  private malformed = 0;
  private stopping: Promise<ShutdownInfo> | undefined;
  private resolveClosed!: (info: ShutdownInfo) => void;
  private readonly onSignal = (signal: NodeJS.Signals): void => this.handleSignal(signal);
  private signalled = false;

  constructor(private readonly init: AgentInit) {
    ({ name: this.name, id: this.id, role: this.role, replica: this.replica } = init.identity);
    this.restoredState = init.restoredState;
    this.logger = init.logger;
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
    this.runner = new TaskRunner(this.send, this.logger, init.transport !== null && init.settings.task_steps === true);
    this.hooks = new ShutdownHooks(this.logger);
    if (init.transport) {
      this.heartbeat = new Heartbeat(this.send, init.settings.heartbeat_interval_ms);
      this.heartbeat.start();
    }
    if (init.handleSignals) for (const s of ['SIGTERM', 'SIGINT'] as const) process.on(s, this.onSignal);
  }

  /** True when talking to a supervisor; false in no-op (standalone) mode. */
  get connected(): boolean {
    return this.init.transport !== null;
  }

  /** Supervisor lines that were ignored because they were not valid protocol messages. */
  get protocolErrors(): number {
    return this.malformed;
  }

  /** Registers the task handler. Tasks run one at a time; its resolved value is reported as the result. */
  onTask(handler: TaskHandler): void {
    this.runner.setHandler(handler);
  }

  /**
   * Runs work the agent started itself and reports it as a task (`task.started`
   * with `name`, then finished or failed). Resolves with fn's value.
   * @throws whatever `fn` throws, after reporting `task.failed`.
   */
  async track<T>(name: string, fn: (ctx: TaskContext) => Promise<T> | T): Promise<T> {
    const label = name.slice(0, 100) || 'work';
    const abort = new TaskAbort();
    if (this.stopping) abort.abort(new AgentSdkError('SHUTDOWN', 'The agent is shutting down'));
    this.tracked.add(abort);
    try {
      const unit = { taskId: `${label}-${randomUUID()}`, correlationId: randomUUID(), name: label, attributes: { 'task.name': label }, abort };
      const outcome = await runWork(unit, this.send, this.logger, fn);
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    } finally {
      this.tracked.delete(abort);
    }
  }

  /**
   * Sends a checkpoint; the supervisor stores it and returns it as `restoredState` after a restart.
   * @throws CheckpointTooLargeError (code CHECKPOINT_TOO_LARGE) above `max_checkpoint_bytes`.
   * @throws AgentSdkError (code CHECKPOINT_NOT_JSON) when the state cannot be serialized.
   */
  checkpoint(state: unknown): void {
    this.send({ type: 'checkpoint', state: serializeCheckpoint(state, this.init.settings.max_checkpoint_bytes) });
  }

  /** Reports the agent's own view of a dependency. @param latencyMs milliseconds */
  reportConnectivity(target: string, ok: boolean, latencyMs?: number, error?: string): void {
    const latency = typeof latencyMs === 'number' && Number.isFinite(latencyMs) && latencyMs >= 0 ? latencyMs : undefined;
    this.send({ type: 'connectivity', target: target.slice(0, 500) || 'unknown', ok, latency_ms: latency, error });
  }

  /** Checks `url` (http(s):// or tcp://host:port) within `timeoutMs` (default 5000) and reports the result. Never throws. */
  async probe(target: string, url: string, timeoutMs = 5000): Promise<ProbeResult> {
    const result = await probeUrl(url, timeoutMs);
    this.reportConnectivity(target, result.ok, result.latencyMs, result.error);
    return result;
  }

  /** Registers a hook run on shutdown (supervisor `shutdown`, channel end, SIGTERM/SIGINT, `close()`). Returns an unregister function. */
  onShutdown(hook: ShutdownHook): () => void {
    return this.hooks.add(hook);
  }

  /** Sends a structured log line over the protocol (in no-op mode it goes to `agent.logger`). */
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (this.init.transport) this.send({ type: 'log', level, msg, fields });
    else this.logger[level](fields ?? {}, msg);
  }

  /** Stops the agent from its own side: aborts the current task, runs the hooks, closes the channel. Does not exit. */
  close(reason = 'closed by the agent'): Promise<ShutdownInfo> {
    return this.shutdown(reason, this.init.shutdownTimeoutMs, false);
  }

  /**
   * @internal Runs `fn` at shutdown after the current task and the hooks ended, before
   * the channel closes, within the same deadline (connect() flushes the metrics here).
   */
  beforeClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  /** @internal Called by connect() for every valid supervisor message. */
  handleMessage(message: IncomingMessage): void {
    switch (message.type) {
      case 'ping':
        this.send({ type: 'pong', id: message.id });
        break;
      case 'task.assign':
        // Object.assign rather than a spread, which in Node 20 makes scavenges keep every task's objects.
        this.runner.assign(Object.assign({}, message.task, { correlationId: message.correlation_id, traceparent: message.traceparent }));
        break;
      case 'task.cancel':
        this.runner.cancel(message.task_id, message.reason);
        break;
      case 'shutdown':
        void this.shutdown(message.reason, message.deadline_ms, this.init.exitOnShutdown);
        break;
      case 'welcome':
        this.logger.debug('ignored a second welcome');
        break;
    }
  }

  /** @internal */
  handleMalformed(reason: string): void {
    this.malformed++;
    this.logger.debug({ reason, protocol_errors: this.malformed }, 'ignored a malformed supervisor line');
  }

  /** @internal The channel ended: the supervisor is gone. */
  handleClose(): void {
    void this.shutdown('the supervisor closed the channel', this.init.shutdownTimeoutMs, this.init.exitOnShutdown);
  }

  private readonly send = (message: AgentMessageInput): void => this.init.transport?.send(message);

  private handleSignal(signal: NodeJS.Signals): void {
    if (this.signalled) return this.init.exit(0); // a second signal: stop now
    this.signalled = true;
    // The supervisor stops an agent with a `shutdown` message and SIGTERM at the same
    // moment: a shutdown already under way finishes its hooks, then the signal exits.
    if (this.stopping) void this.stopping.then(() => this.init.exit(0));
    else void this.shutdown(signal, this.init.shutdownTimeoutMs, true);
  }

  private shutdown(reason: string, deadlineMs: number, exit: boolean): Promise<ShutdownInfo> {
    this.stopping ??= this.stop({ reason, deadlineMs }).then((info) => {
      if (exit) this.init.exit(0);
      return info;
    });
    return this.stopping;
  }

  private async stop(info: ShutdownInfo): Promise<ShutdownInfo> {
    this.logger.info({ reason: info.reason, deadline_ms: info.deadlineMs }, 'shutting down');
    // Leave a little of the deadline to flush the channel and exit.
    const budget = info.deadlineMs - Math.min(250, info.deadlineMs * 0.1);
    for (const c of this.tracked) c.abort(new AgentSdkError('SHUTDOWN', `The agent is shutting down: ${info.reason}`));
    const work = Promise.all([this.runner.stop(info.reason), this.hooks.run(info)]).then(() => Promise.allSettled(this.closers.map((fn) => fn())));
    const finished = await within(work, budget);
    if (!finished) this.logger.warn({ deadline_ms: info.deadlineMs }, 'shutdown hooks or the current task did not finish before the deadline');
    this.heartbeat?.stop();
    for (const s of ['SIGTERM', 'SIGINT'] as const) process.off(s, this.onSignal);
    await this.init.transport?.close();
    this.resolveClosed(info);
    return info;
  }
}
