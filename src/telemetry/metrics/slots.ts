import { hasProcess, type ReplicaStateKind } from '../../supervisor/ReplicaState.js';
import type { ScrapeSnapshot } from './ScrapeSnapshot.js';
import type { PerTaskView, ReplicaView, SlotLabels, SupervisorView } from './source.js';

/** One exported replica: a service replica, or one `max_concurrent` slot of a per_task agent. */
export interface Slot {
  /** The supervisor's id: `qaa-0`, or `<agent>:<task id>` for a running per_task process (undefined for an idle slot). */
  readonly id: string | undefined;
  readonly labels: SlotLabels;
  readonly mode: 'service' | 'per_task';
  readonly state: ReplicaStateKind;
  readonly pid: number | undefined;
  /** Epoch ms the current process started. */
  readonly startedAt: number | undefined;
  readonly busy: boolean;
  readonly replica: ReplicaView | undefined;
}

/**
 * Maps the supervisor's replicas and per_task processes to bounded label sets.
 * A per_task agent is exported as `max_concurrent` replicas ("0", "1", …): each
 * running process holds the lowest free index for its lifetime, and an idle slot is
 * `stopped`. Task ids never become labels.
 */
export class SlotMap {
  /** per_task agent name → task id → slot index. */
  private readonly perTaskIndex = new Map<string, Map<string, number>>();
  private bySlot = new Map<string, ReplicaView>();
  /** One frozen labels object per replica / per_task index, reused by every scrape (prom-client caches its text). */
  private readonly replicaLabels = new WeakMap<ReplicaView, SlotLabels>();
  private readonly perTaskLabels = new Map<string, SlotLabels>();

  /** Every slot, computed once per scrape. */
  readonly all: () => Slot[];

  constructor(private readonly sup: SupervisorView, snapshot: ScrapeSnapshot) {
    this.all = snapshot.memo(() => this.compute());
  }

  private compute(): Slot[] {
    const out: Slot[] = [];
    for (const r of this.sup.replicas) {
      const proc = hasProcess(r.state) ? r.state.proc : undefined;
      out.push({
        id: r.slot, labels: this.labelsOf(r), mode: 'service', state: r.state.kind,
        pid: proc?.pid, startedAt: proc?.startedAt, busy: r.task !== undefined, replica: r,
      });
    }
    for (const p of this.sup.perTask) {
      const index = this.sync(p);
      const byIndex = new Map([...index].map(([taskId, i]) => [i, taskId]));
      for (let i = 0; i < p.config.max_concurrent; i++) {
        const taskId = byIndex.get(i);
        const run = taskId === undefined ? undefined : p.runs.get(taskId);
        out.push({
          id: run ? `${p.config.name}:${taskId}` : undefined, labels: this.perTaskLabelsOf(p, i), mode: 'per_task',
          state: run ? (p.stopping ? 'stopping' : 'running') : 'stopped', pid: run?.proc.pid, startedAt: run?.startedAt, busy: run !== undefined, replica: undefined,
        });
      }
    }
    return out;
  }

  /** Labels for a supervisor slot id (`qaa-0`, or `<agent>:<task id>` of a running per_task process); undefined when unknown or gone. */
  resolve(id: string): SlotLabels | undefined {
    const r = this.replica(id);
    if (r) return this.labelsOf(r);
    const colon = id.indexOf(':');
    if (colon <= 0) return undefined;
    const p = this.sup.perTask.find((x) => x.config.name === id.slice(0, colon));
    const i = p ? this.sync(p).get(id.slice(colon + 1)) : undefined;
    return p && i !== undefined ? this.perTaskLabelsOf(p, i) : undefined;
  }

  /** The service replica with this slot id. */
  replica(slot: string): ReplicaView | undefined {
    if (this.bySlot.size !== this.sup.replicas.length) this.bySlot = new Map(this.sup.replicas.map((x) => [x.slot, x]));
    return this.bySlot.get(slot);
  }

  labelsOf(r: ReplicaView): SlotLabels {
    let l = this.replicaLabels.get(r);
    if (!l || l.role !== r.role) this.replicaLabels.set(r, (l = Object.freeze({ agent: r.config.name, role: r.role, replica: String(r.index) })));
    return l;
  }

  private perTaskLabelsOf(p: PerTaskView, index: number): SlotLabels {
    const key = `${p.config.name}\u0000${p.role}\u0000${index}`;
    let l = this.perTaskLabels.get(key);
    if (!l) this.perTaskLabels.set(key, (l = Object.freeze({ agent: p.config.name, role: p.role, replica: String(index) })));
    return l;
  }

  /** Brings the task → index map of a per_task agent in line with its running processes. */
  private sync(p: PerTaskView): Map<string, number> {
    let index = this.perTaskIndex.get(p.config.name);
    if (!index) this.perTaskIndex.set(p.config.name, (index = new Map()));
    for (const taskId of index.keys()) if (!p.runs.has(taskId)) index.delete(taskId);
    const used = new Set(index.values());
    for (const taskId of p.runs.keys()) {
      if (index.has(taskId)) continue;
      let i = 0;
      while (used.has(i)) i++;
      index.set(taskId, i);
      used.add(i);
    }
    return index;
  }
}
