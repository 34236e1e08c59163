import type { AgentConfig } from '../config/schema.js';
import { DesiredStateStore } from '../store/DesiredStateStore.js';
import { AgentScale, type ScaleResult } from './AgentScale.js';
import type { Db } from '../store/Database.js';
import type { PerTaskAgent } from './PerTaskAgent.js';
import type { Replica } from './Replica.js';
import { AgentControlError, UnknownAgentError } from './errors.js';
import type { Supervisor } from './Supervisor.js';

/** What `background stop|start <agent>` did. */
export interface ControlResult {
  action: 'stop' | 'start';
  /** As given: an agent name or a replica id (`qaa-1`). */
  target: string;
  agent: string;
  mode: 'service' | 'per_task';
  /** Replicas whose process was stopped or started (service); runs ended (per_task stop). */
  changed: string[];
  /** Replicas already in the asked state (service), or [] (per_task). */
  unchanged: string[];
  /** Whether the agent's desired state changed (false: it already was stopped, or started). */
  stateChanged: boolean;
}

type Target =
  | { kind: 'service'; agent: string; replicas: Replica[]; index: string | undefined }
  | { kind: 'per_task'; agent: string; p: PerTaskAgent };

/**
 * Per-agent stop and start (`background stop|start <agent>`). The desired state is
 * stored first (`agent_desired_state`), so a stopped agent or replica stays stopped
 * across supervisor restarts until it is started. A stop is the graceful stop of a
 * supervisor stop (SIGTERM, stop_timeout, SIGKILL; a task in progress goes back to
 * the queue with no attempt used) and is not missing capacity: a stopped replica's
 * state is `stopped`, which health does not count as down and the restart policy
 * never sees.
 */
export class AgentControl {
  private readonly store: DesiredStateStore;
  private readonly scaler: AgentScale;

  constructor(private readonly sup: Supervisor, db: Db) {
    this.store = new DesiredStateStore(db);
    this.scaler = new AgentScale(sup, this.store, (agent, index) => this.isStopped(agent, index));
  }

  /** How many replicas of service agent `a` to run at start (`background scale` overrides the config's `replicas` until the config changes it). */
  replicaCount(a: AgentConfig): number {
    return this.scaler.replicaCount(a);
  }

  /** `background scale <agent> <n>` (see AgentScale). */
  scale(name: string, n: number): Promise<ScaleResult> {
    return this.scaler.scale(name, n);
  }

  /** Adds or removes replicas of `a` until it has `n` (see AgentScale.resize); stores nothing. Call it inside {@link serial}. */
  resize(a: AgentConfig, n: number, reason: string): Promise<Pick<ScaleResult, 'started' | 'held' | 'stopped'>> {
    return this.scaler.resize(a, n, reason);
  }

  /** Runs `fn` after the scale or reload of `agent` in progress. */
  serial<T>(agent: string, fn: () => Promise<T>): Promise<T> {
    return this.scaler.serial(agent, fn);
  }

  /** Whether an operator stopped the agent (`index` undefined: the whole agent, or a per_task one) or its replica `index`. */
  isStopped(agent: string, index?: number): boolean {
    return this.store.stopped().some((e) => e.agent === agent && (e.replica === undefined || (index !== undefined && e.replica === String(index))));
  }

  /** Whether this replica is held stopped by an operator. */
  holds(r: Replica): boolean {
    return this.isStopped(r.config.name, r.index);
  }

  /** At supervisor start: starts every replica no operator stopped and holds back the stopped agents, saying which. */
  startFleet(): void {
    const held: string[] = [];
    for (const r of this.sup.replicas) {
      if (this.holds(r)) held.push(r.slot);
      else r.start();
    }
    for (const p of this.sup.perTask) {
      p.stopped = this.isStopped(p.config.name);
      if (p.stopped) held.push(p.config.name);
    }
    if (held.length) this.sup.log.warn({ replicas: held }, `${held.join(', ')} stay${held.length === 1 ? 's' : ''} stopped, as an operator left ${held.length === 1 ? 'it' : 'them'} (background stop); start with: background start <agent>`);
  }

  /**
   * Stops an agent (every replica, or a per_task agent's runs and new runs) or one replica.
   * @throws UnknownAgentError; AgentControlError for a per_task slot (`deva_ts-1`)
   */
  async stop(name: string, reason = `stopped by the operator (background stop ${name})`): Promise<ControlResult> {
    const t = this.target(name, 'stop');
    if (t.kind === 'per_task') {
      const was = t.p.stopped;
      this.store.stop(t.agent, undefined, Date.now(), reason);
      const ended = await t.p.stopRuns(reason);
      this.record(t.agent, 'stop', name, ended);
      return { action: 'stop', target: name, agent: t.agent, mode: 'per_task', changed: ended, unchanged: [], stateChanged: !was };
    }
    const was = t.index === undefined ? this.isStopped(t.agent) : this.isStopped(t.agent, Number(t.index));
    if (t.index === undefined) {
      this.store.start(t.agent); // one row for the whole agent replaces the replicas' own
      this.store.stop(t.agent, undefined, Date.now(), reason);
    } else if (!was) this.store.stop(t.agent, t.index, Date.now(), reason);
    const changed = t.replicas.filter((r) => r.state.kind !== 'stopped');
    await Promise.all(changed.map((r) => r.stop(reason)));
    this.record(t.agent, 'stop', name, changed.map((r) => r.slot));
    return { action: 'stop', target: name, agent: t.agent, mode: 'service', changed: changed.map((r) => r.slot), unchanged: t.replicas.filter((r) => !changed.includes(r)).map((r) => r.slot), stateChanged: !was };
  }

  /**
   * Starts what an operator stopped: an agent (every stopped replica; a per_task agent
   * takes tasks again) or one replica. A replica in backoff, circuit open or failed is
   * left to its restart policy (`background reset` closes a breaker).
   * @throws UnknownAgentError; AgentControlError for a per_task slot
   */
  start(name: string): ControlResult {
    const t = this.target(name, 'start');
    if (t.kind === 'per_task') {
      const was = t.p.stopped;
      this.store.start(t.agent);
      t.p.stopped = false;
      this.record(t.agent, 'start', name, []);
      setImmediate(() => this.sup.pump());
      return { action: 'start', target: name, agent: t.agent, mode: 'per_task', changed: [], unchanged: [], stateChanged: was };
    }
    const was = t.index === undefined ? this.store.stopped().some((e) => e.agent === t.agent) : this.isStopped(t.agent, Number(t.index));
    if (t.index === undefined) this.store.start(t.agent);
    else if (this.isStopped(t.agent)) {
      // The whole agent was stopped: the other replicas stay stopped, each by its own row.
      const at = Date.now();
      const whole = this.store.stopped().find((e) => e.agent === t.agent && e.replica === undefined);
      this.store.start(t.agent);
      for (const r of this.sup.replicas) if (r.config.name === t.agent && String(r.index) !== t.index) this.store.stop(t.agent, String(r.index), whole?.stoppedAt ?? at, whole?.reason ?? null);
    } else this.store.start(t.agent, t.index);
    const changed = t.replicas.filter((r) => r.state.kind === 'stopped');
    for (const r of changed) r.start();
    this.record(t.agent, 'start', name, changed.map((r) => r.slot));
    return { action: 'start', target: name, agent: t.agent, mode: 'service', changed: changed.map((r) => r.slot), unchanged: t.replicas.filter((r) => !changed.includes(r)).map((r) => r.slot), stateChanged: was };
  }

  private target(name: string, action: 'stop' | 'start'): Target {
    const agents = this.sup.bg.agents;
    const known = () => [...agents.map((a) => a.name), ...this.sup.replicas.map((r) => r.slot)];
    const p = this.sup.perTask.find((x) => x.config.name === name);
    if (p) return { kind: 'per_task', agent: name, p };
    if (agents.some((a) => a.name === name && a.mode !== 'per_task')) return { kind: 'service', agent: name, replicas: this.sup.replicas.filter((r) => r.config.name === name), index: undefined };
    const r = this.sup.replicas.find((x) => x.slot === name);
    if (r) return { kind: 'service', agent: r.config.name, replicas: [r], index: String(r.index) };
    const slot = /^(.+)-(\d+)$/.exec(name);
    const owner = slot && this.sup.perTask.find((x) => x.config.name === slot[1]);
    if (owner) {
      throw new AgentControlError('per_task_slot', `${name} is a slot of the per_task agent ${owner.config.name}, which starts one process per task: ${action} the whole agent (background ${action} ${owner.config.name}); to end one run, use background restart ${name}`);
    }
    throw new UnknownAgentError(name, known());
  }

  /** A line in the event history (`background monitor`, GET /api/v1/events) and the log. */
  private record(agent: string, action: 'stop' | 'start', target: string, replicas: string[]): void {
    const message = `${action === 'stop' ? 'stopped' : 'started'} by the operator${replicas.length ? ` (${replicas.join(', ')})` : ''}`;
    this.sup.log.info({ agent, target, replicas }, `${target}: ${message}${action === 'stop' ? `; it stays stopped across supervisor restarts until: background start ${target}` : ''}`);
    try {
      this.sup.events.record(agent, action === 'stop' ? 'operator_stop' : 'operator_start', { target, replicas, message });
    } catch {
      // a full disk: the log line above says it
    }
  }
}
