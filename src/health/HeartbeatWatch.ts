import type { Target } from './Target.js';

export interface HeartbeatWatchOptions {
  /** agent_response.heartbeat_miss_multiplier: the budget is this × the agent's heartbeat_interval. */
  readonly multiplier: number;
  /** The clock (epoch ms). Default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /** The current targets (for `sync()` without arguments). */
  readonly targets: () => readonly Target[];
  /**
   * The current target `id`, looked up again when its timer fires: one target, not the
   * whole fleet's (a timer fires every budget for every agent). Default: found in `targets()`.
   */
  readonly target?: ((id: string) => Target | undefined) | undefined;
  /** The budget of `target` ran out at `dueAt` with no newer heartbeat. Called once per silence. */
  readonly onDue: (target: Target, dueAt: number) => void;
}

interface Watch {
  /** Epoch ms of the heartbeat (or start) the budget counts from. */
  from: number;
  dueAt: number;
  timer: NodeJS.Timeout | undefined;
}

/** Whether the heartbeat budget applies: a running process that said hello (and so can be pinged). */
const watched = (t: Target): boolean => t.state === 'running' && t.protocol && t.ping !== undefined && t.pid !== undefined;

/**
 * Sets one timer per protocol agent to the moment its heartbeat budget
 * (`heartbeat_miss_multiplier × heartbeat_interval` after the last heartbeat, or
 * after the start) runs out, and reports the silence then, independently of the
 * ping round: a verdict as fast as its budget, not a check interval or a ping
 * timeout later. Timers are re-armed lazily: a heartbeat that arrived in time
 * moves the deadline when the timer fires, so a healthy agent costs one timer
 * per budget, not one per heartbeat. Timers are unref'd; `stop()` is idempotent.
 */
export class HeartbeatWatch {
  private readonly watches = new Map<string, Watch>();
  private readonly now: () => number;
  private stopped = false;

  constructor(private readonly o: HeartbeatWatchOptions) {
    this.now = o.now ?? Date.now;
  }

  /** The budget of `t`, ms. */
  budgetMs(t: Target): number {
    return this.o.multiplier * t.config.heartbeat_interval * 1000;
  }

  /** Arms a timer for every watched target that has none (new processes), and drops the ones gone. */
  sync(targets: readonly Target[] = this.o.targets()): void {
    if (this.stopped) return;
    const live = new Set<string>();
    for (const t of targets) {
      if (!watched(t)) continue;
      live.add(t.id);
      const from = t.lastHeartbeatAt ?? t.startedAt ?? this.now();
      const w = this.watches.get(t.id);
      if (w && w.from >= from) continue; // armed for this heartbeat, or already reported
      if (w?.timer) { w.from = from; w.dueAt = from + this.budgetMs(t); continue; } // the timer re-arms when it fires
      this.arm(t.id, from, from + this.budgetMs(t));
    }
    for (const [id, w] of this.watches) {
      if (live.has(id)) continue;
      if (w.timer) clearTimeout(w.timer);
      this.watches.delete(id);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches.values()) if (w.timer) clearTimeout(w.timer);
    this.watches.clear();
  }

  private arm(id: string, from: number, dueAt: number): void {
    const w: Watch = { from, dueAt, timer: undefined };
    this.watches.set(id, w);
    // +1 ms: a heartbeat exactly at the deadline is not late.
    w.timer = setTimeout(() => this.fire(id), Math.max(0, dueAt - this.now()) + 1);
    w.timer.unref?.();
  }

  private fire(id: string): void {
    const w = this.watches.get(id);
    if (!w || this.stopped) return;
    w.timer = undefined;
    const t = this.o.target ? this.o.target(id) : this.o.targets().find((x) => x.id === id);
    if (!t || !watched(t)) {
      this.watches.delete(id);
      return;
    }
    const from = t.lastHeartbeatAt ?? t.startedAt ?? w.from;
    const dueAt = from + this.budgetMs(t);
    if (dueAt >= this.now()) {
      this.arm(id, from, dueAt);
      return;
    }
    // Silent past the budget: report once; the next heartbeat (seen by sync) arms a new timer.
    w.from = from;
    this.o.onDue(t, dueAt);
  }
}
