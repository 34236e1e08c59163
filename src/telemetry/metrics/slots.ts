import { hasProcess, type ReplicaStateKind } from '../../supervisor/ReplicaState.js';
import type { ScrapeSnapshot } from './ScrapeSnapshot.js';
import type { PerTaskView, ReplicaView, SlotLabels, SupervisorView } from './source.js';

/** One exported replica: a service replica, or one `max_concurrent` slot of a per_task agent. */
export interface Slot {
  /** The supervisor's id: `qaa-0`, or `deva_ts-1` for the per_task run in slot 1 (undefined for an idle slot). */
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
 * run holds the slot index it got at its start (the lowest free one) for its
 * lifetime, and an idle slot is `stopped`. Task ids never become labels.
 */
export class SlotMap {
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
      const bySlot = new Map([...p.runs.values()].map((run) => [run.slot, run]));
      for (let i = 0; i < p.config.max_concurrent; i++) {
        const run = bySlot.get(String(i));
        out.push({
          id: run?.slotId, labels: this.perTaskLabelsOf(p, i), mode: 'per_task',
          state: run ? (p.stopping || run.state.kind === 'stopping' ? 'stopping' : 'running') : 'stopped', pid: run?.proc.pid, startedAt: run?.startedAt, busy: run !== undefined, replica: undefined,
        });
      }
    }
    return out;
  }

  /** Labels for a supervisor slot id (`qaa-0`, or `deva_ts-1` of a running per_task run); undefined when unknown or no run holds it. */
  resolve(id: string): SlotLabels | undefined {
    const r = this.replica(id);
    if (r) return this.labelsOf(r);
    const dash = id.lastIndexOf('-');
    if (dash <= 0) return undefined;
    const p = this.sup.perTask.find((x) => x.config.name === id.slice(0, dash));
    const slot = id.slice(dash + 1);
    return p && [...p.runs.values()].some((run) => run.slot === slot) ? this.perTaskLabelsOf(p, Number(slot)) : undefined;
  }

  /** The service replica with this slot id. */
  replica(slot: string): ReplicaView | undefined {
    const known = this.bySlot.get(slot);
    // Rebuilt when replicas came or went (background scale can replace one with a new object of the same id).
    if (this.bySlot.size !== this.sup.replicas.length || !known || !this.sup.replicas.includes(known)) this.bySlot = new Map(this.sup.replicas.map((x) => [x.slot, x]));
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
}
