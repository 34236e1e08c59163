import type { AgentConfig } from '../config/schema.js';
import type { DesiredStateStore } from '../store/DesiredStateStore.js';
import { AgentControlError, UnknownAgentError } from './errors.js';
import type { Supervisor } from './Supervisor.js';

/** The most replicas `background scale` sets: the bound of the config's `replicas`. */
export const MAX_REPLICAS = 1000;

/** What `background scale <agent> <n>` did. */
export interface ScaleResult {
  action: 'scale';
  target: string;
  agent: string;
  from: number;
  to: number;
  /** Replicas added and started. */
  started: string[];
  /** Replicas added but left stopped, because an operator stopped the agent. */
  held: string[];
  /** Replicas stopped (gracefully, highest index first) and removed. */
  stopped: string[];
  /** Whether the count is kept across restarts (false: it is the config's `replicas` again). */
  persisted: boolean;
}

/**
 * `background scale <agent> <n>` for service agents. The count is stored first
 * (`agent_scale`) with the config's `replicas` of that moment, and overrides the
 * config at every supervisor start as long as the config still says that; once the
 * config's `replicas` changes, the config wins and the stored count is forgotten.
 * Scaling to the config's own count forgets it at once.
 */
export class AgentScale {
  /** One scale at a time per agent: the next waits for the one in progress. */
  private readonly queue = new Map<string, Promise<unknown>>();

  constructor(private readonly sup: Supervisor, private readonly store: DesiredStateStore, private readonly held: (agent: string, index: number) => boolean) {}

  /** How many replicas of `a` to run at start: its stored scale while the config is unchanged, else the config's. */
  replicaCount(a: AgentConfig): number {
    const s = this.store.scaleOf(a.name);
    if (!s) return a.replicas;
    if (s.configReplicas !== a.replicas) {
      this.store.setScale(a.name, undefined);
      this.sup.log.info({ agent: a.name, scaled_to: s.replicas, config_replicas: a.replicas }, `${a.name}: the config's replicas changed (${s.configReplicas} → ${a.replicas}) since background scale set ${s.replicas}: the config wins, ${a.replicas} replica(s)`);
      return a.replicas;
    }
    if (s.replicas !== a.replicas) this.sup.log.info({ agent: a.name, replicas: s.replicas, config_replicas: a.replicas }, `${a.name}: ${s.replicas} replica(s), as background scale set on ${new Date(s.scaledAt).toISOString()} (the config says ${a.replicas})`);
    return s.replicas;
  }

  /**
   * Starts or stops replicas of a service agent until it has `n`.
   * @throws UnknownAgentError; AgentControlError for a per_task agent, a replica id, or `n` outside 1–{@link MAX_REPLICAS}
   */
  scale(name: string, n: number): Promise<ScaleResult> {
    return this.serial(name, async () => this.apply(this.configOf(name, n), name, n));
  }

  /** Runs `fn` once the scale or reload of `agent` in progress (if any) is over: one change of an agent's replicas at a time. */
  serial<T>(agent: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queue.get(agent) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.queue.set(agent, next);
    void next.finally(() => { if (this.queue.get(agent) === next) this.queue.delete(agent); }).catch(() => undefined);
    return next;
  }

  private configOf(name: string, n: number): AgentConfig {
    const a = this.sup.bg.agents.find((x) => x.name === name);
    if (!a) {
      const r = this.sup.replicas.find((x) => x.slot === name);
      if (r) throw new AgentControlError('not_an_agent', `${name} is a replica; scale its agent: background scale ${r.config.name} <n>`);
      throw new UnknownAgentError(name, this.sup.bg.agents.map((x) => x.name));
    }
    if (a.mode === 'per_task') {
      throw new AgentControlError('per_task_scale', `${name} is a per_task agent: it starts one process per task, so it has no replicas to scale. Set how many run at once with max_concurrent in its config (now ${a.max_concurrent}), or stop it with: background stop ${name}`);
    }
    if (!Number.isInteger(n) || n < 1 || n > MAX_REPLICAS) {
      throw new AgentControlError('bad_replicas', `Expected a replica count from 1 to ${MAX_REPLICAS}, got ${JSON.stringify(n)}${n === 0 ? `; to take every replica out, stop the agent instead: background stop ${name}` : ''}`);
    }
    return a;
  }

  private async apply(a: AgentConfig, target: string, n: number): Promise<ScaleResult> {
    const from = this.sup.replicas.filter((r) => r.config.name === a.name).length;
    const persisted = n !== a.replicas;
    this.store.setScale(a.name, persisted ? { replicas: n, configReplicas: a.replicas, at: Date.now() } : undefined);
    const changes = await this.resize(a, n, `scaled down to ${n} replica${n === 1 ? '' : 's'} (background scale ${a.name} ${n})`);
    const result: ScaleResult = { action: 'scale', target, agent: a.name, from, to: n, ...changes, persisted };
    this.record(result);
    return result;
  }

  /**
   * Adds replicas of `a` (each with a closed breaker; started unless an operator stopped
   * the agent or that replica) or stops the highest indexes gracefully and removes them,
   * until it has `n`. Stores nothing (`background scale` and a reload decide what to keep).
   */
  async resize(a: AgentConfig, n: number, reason: string): Promise<Pick<ScaleResult, 'started' | 'held' | 'stopped'>> {
    const mine = () => this.sup.replicas.filter((r) => r.config.name === a.name);
    const from = mine().length;
    const result: Pick<ScaleResult, 'started' | 'held' | 'stopped'> = { started: [], held: [], stopped: [] };
    if (n > from) {
      const last = mine().at(-1);
      const at = last ? this.sup.replicas.lastIndexOf(last) + 1 : this.sup.replicas.length;
      const added = [];
      for (let i = from; i < n; i++) added.push(this.sup.createReplica(a, i));
      this.sup.replicas.splice(at, 0, ...added);
      for (const r of added) {
        this.sup.policy.reset(r.slot); // a new replica starts with a closed breaker, whatever an earlier one with its id did
        if (this.held(a.name, r.index)) result.held.push(r.slot);
        else {
          r.start();
          result.started.push(r.slot);
        }
      }
      if (result.started.length) setImmediate(() => this.sup.pump());
    } else if (n < from) {
      const going = mine().filter((r) => r.index >= n).sort((x, y) => y.index - x.index);
      this.store.forgetReplicasFrom(a.name, n);
      // Highest index first; each gracefully (SIGTERM, stop_timeout, SIGKILL), its task back in the queue, no attempt used.
      await Promise.all(going.map((r) => r.stop(reason)));
      for (const r of going) this.sup.replicas.splice(this.sup.replicas.indexOf(r), 1);
      result.stopped = going.map((r) => r.slot);
      this.sup.writePidFile();
    }
    return result;
  }

  private record(r: ScaleResult): void {
    const what = [r.started.length ? `started ${r.started.join(', ')}` : '', r.held.length ? `added ${r.held.join(', ')} stopped (the agent is stopped)` : '', r.stopped.length ? `stopped ${r.stopped.join(', ')}` : ''].filter(Boolean).join('; ');
    const message = `scaled from ${r.from} to ${r.to} replica${r.to === 1 ? '' : 's'}${what ? `: ${what}` : ''}`;
    this.sup.log.info({ agent: r.agent, from: r.from, to: r.to, started: r.started, stopped: r.stopped, persisted: r.persisted }, `${r.agent} ${message}`);
    try {
      this.sup.events.record(r.agent, 'scale', { from: r.from, to: r.to, started: r.started, stopped: r.stopped, message });
    } catch {
      // a full disk: the log line above says it
    }
  }
}
