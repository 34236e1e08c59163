import type { AgentConfig, Config } from '../config/schema.js';
import { diffConfig, probeCheckEvery, type ChangedAgent } from './ConfigReload.js';
import { AgentControlError, ReloadRefusedError } from './errors.js';
import type { Supervisor } from './Supervisor.js';

/** One agent a reload added, removed or changed, and the processes it touched. */
export interface ReloadedAgent {
  agent: string;
  mode: 'service' | 'per_task';
  /** Replicas started (service). */
  started: string[];
  /** Replicas (or a per_task agent) added but left stopped, because an operator stopped them (background stop). */
  held: string[];
  /** Replicas stopped and removed, or per_task runs ended (their tasks back in the queue, no attempt used). */
  stopped: string[];
}

/** What `background reload` did (the body of POST /api/v1/reload). */
export interface ReloadResult {
  action: 'reload';
  /** The config file applied (absolute), when it came from a file. */
  file: string | undefined;
  added: ReloadedAgent[];
  removed: ReloadedAgent[];
  /** `keys`: what differs (`command`, `env.LEVEL`); `restarted`: false when only `replicas`/`max_concurrent` changed. */
  changed: (ReloadedAgent & { keys: string[]; restarted: boolean })[];
  /** Agents whose effective config is the same: not touched (same processes). */
  unchanged: string[];
  /** Things the operator should know (a role left with pending tasks and no agent). */
  warnings: string[];
}

const modeOf = (a: AgentConfig): 'service' | 'per_task' => (a.mode === 'per_task' ? 'per_task' : 'service');

/**
 * Applies a changed config to the running fleet (`background reload`, SIGHUP). The
 * rule: after a reload the fleet is what a supervisor restart with the new config
 * would give, and nothing else moves. New agents start; removed agents stop
 * gracefully (a task in progress goes back to the queue, no attempt used) and go;
 * changed agents restart with the new config, or, when only `replicas` or
 * `max_concurrent` changed, gain or lose replicas or slots while the others run on;
 * unchanged agents are not touched. An operator's `background stop` holds across a
 * reload, and a `background scale` count holds until the config's `replicas` changes.
 * Any change outside `background.agents` refuses the whole reload (ReloadRefusedError).
 * One reload at a time; each agent's change waits for a scale of it in progress.
 */
export class FleetReload {
  private last: Promise<unknown> = Promise.resolve();
  /** How often probes run (seconds), fixed when the supervisor started (the health checks keep their interval). */
  private readonly probeEvery: number | undefined;

  constructor(private readonly sup: Supervisor) {
    this.probeEvery = probeCheckEvery(sup.config.background);
  }

  /** @throws ReloadRefusedError, before anything is changed */
  apply(next: Readonly<Config>, file?: string): Promise<ReloadResult> {
    const run = this.last.catch(() => undefined).then(() => this.run(next, file));
    this.last = run;
    return run;
  }

  private async run(next: Readonly<Config>, file: string | undefined): Promise<ReloadResult> {
    const sup = this.sup;
    if (!sup.ready || sup.stopping) throw new AgentControlError('not_running', 'The supervisor is starting or stopping: try the reload again once it runs (background status)');
    const diff = diffConfig(sup.config, next, { probeEvery: this.probeEvery });
    if (diff.notReloadable.length) throw new ReloadRefusedError(diff.notReloadable);
    const rolesBefore = new Set(sup.roles);
    sup.adoptConfig(next);
    const result: ReloadResult = { action: 'reload', file, added: [], removed: [], changed: [], unchanged: diff.unchanged, warnings: [] };
    const serial = (name: string, fn: () => Promise<void>) => sup.control.serial(name, fn);
    await Promise.all([
      ...diff.removed.map((a) => serial(a.name, async () => { result.removed.push({ agent: a.name, mode: modeOf(a), started: [], held: [], stopped: await this.remove(a.name, `removed from the config (background reload${file ? ` of ${file}` : ''})`) }); })),
      ...diff.changed.map((c) => serial(c.name, async () => { result.changed.push(await this.change(c)); })),
      ...diff.added.map((a) => serial(a.name, async () => { result.added.push(await this.add(a)); })),
    ]);
    const order = new Map(next.background.agents.map((a, i) => [a.name, i]));
    const rank = (name: string) => order.get(name) ?? -1;
    sup.replicas.sort((x, y) => rank(x.config.name) - rank(y.config.name) || x.index - y.index);
    sup.perTask.sort((x, y) => rank(x.config.name) - rank(y.config.name));
    for (const list of [result.added, result.changed]) list.sort((x, y) => rank(x.agent) - rank(y.agent));
    result.removed.sort((x, y) => x.agent.localeCompare(y.agent));
    for (const role of rolesBefore) {
      if (!sup.roles.includes(role) && await sup.queue.hasPending(role).catch(() => false)) result.warnings.push(`role ${role} has pending tasks and no agent now: they wait until an agent of role ${role} is configured again (or cancel them: background tasks --role ${role} --status pending)`);
    }
    sup.writePidFile();
    setImmediate(() => sup.pump());
    this.record(result);
    return result;
  }

  /** Stops an agent's processes gracefully and removes it; returns the replicas removed (service) or the runs ended (per_task). */
  private async remove(name: string, reason: string): Promise<string[]> {
    const sup = this.sup;
    const p = sup.perTask.find((x) => x.config.name === name);
    if (p) {
      const ended = await p.stopRuns(reason);
      p.stopping = true;
      sup.perTask.splice(sup.perTask.indexOf(p), 1);
      return ended;
    }
    const going = sup.replicas.filter((r) => r.config.name === name);
    await Promise.all(going.map((r) => r.stop(reason)));
    for (const r of going) sup.replicas.splice(sup.replicas.indexOf(r), 1);
    return going.map((r) => r.slot);
  }

  /** Creates an agent from its config: per_task, or service replicas (as many as `background scale` keeps, else `replicas`). */
  private async add(a: AgentConfig): Promise<ReloadedAgent> {
    const sup = this.sup;
    if (a.mode === 'per_task') {
      const p = sup.createPerTask(a);
      p.stopped = sup.control.isStopped(a.name);
      sup.perTask.push(p);
      return { agent: a.name, mode: 'per_task', started: [], held: p.stopped ? [a.name] : [], stopped: [] };
    }
    const r = await sup.control.resize(a, sup.control.replicaCount(a), 'background reload');
    return { agent: a.name, mode: 'service', started: r.started, held: r.held, stopped: [] };
  }

  private async change(c: ChangedAgent): Promise<ReloadResult['changed'][number]> {
    const sup = this.sup;
    const keys = c.keys;
    if (c.restart) {
      const stopped = await this.remove(c.name, `restarted by background reload (changed: ${keys.join(', ')})`);
      const added = await this.add(c.after);
      return { ...added, stopped, keys, restarted: true };
    }
    const p = sup.perTask.find((x) => x.config.name === c.name);
    if (p) {
      p.adopt(c.after);
      // Runs in slots past a lowered max_concurrent end (their tasks go back to the queue, no attempt used) and start again as slots free up.
      const over = [...p.runs.values()].filter((run) => Number(run.slot) >= c.after.max_concurrent);
      for (const run of over) p.restart(`max_concurrent lowered to ${c.after.max_concurrent} by background reload`, run.slot);
      await Promise.all(over.map((run) => run.ended));
      return { agent: c.name, mode: 'per_task', started: [], held: [], stopped: over.map((run) => run.slotId), keys, restarted: false };
    }
    for (const r of sup.replicas) if (r.config.name === c.name) r.adopt(c.after);
    const n = sup.control.replicaCount(c.after);
    const r = await sup.control.resize(c.after, n, `scaled down to ${n} replica${n === 1 ? '' : 's'} by background reload (the config's replicas changed)`);
    return { agent: c.name, mode: 'service', ...r, keys, restarted: false };
  }

  private record(r: ReloadResult): void {
    const parts = [
      r.added.length ? `added ${r.added.map((a) => a.agent).join(', ')}` : '',
      r.removed.length ? `removed ${r.removed.map((a) => a.agent).join(', ')}` : '',
      r.changed.length ? `changed ${r.changed.map((c) => `${c.agent} (${c.keys.join(', ')}${c.restarted ? ', restarted' : ''})`).join(', ')}` : '',
      `${r.unchanged.length} unchanged`,
    ].filter(Boolean);
    const message = `config reloaded${r.file ? ` from ${r.file}` : ''}: ${parts.join('; ')}`;
    this.sup.log.info({ file: r.file, added: r.added.map((a) => a.agent), removed: r.removed.map((a) => a.agent), changed: r.changed.map((c) => ({ agent: c.agent, keys: c.keys })), unchanged: r.unchanged }, message);
    for (const w of r.warnings) this.sup.log.warn(w);
    try {
      this.sup.events.record(null, 'reload', { file: r.file ?? null, added: r.added.map((a) => a.agent), removed: r.removed.map((a) => a.agent), changed: r.changed.map((c) => ({ agent: c.agent, keys: c.keys, restarted: c.restarted })), unchanged: r.unchanged, message });
    } catch {
      // a full disk: the log line above says it
    }
  }
}
