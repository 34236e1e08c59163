import type { QueueStore } from '../queue/QueueStore.js';
import type { Task } from '../queue/Task.js';
import { DiskFullError } from '../store/DiskFullError.js';
import type { Logger } from '../telemetry/logger.js';
import { leastRecentlyUsed } from './leastRecentlyUsed.js';
import type { PerTaskAgent } from './PerTaskAgent.js';
import type { Replica } from './Replica.js';
import type { WakeTimer } from './WakeTimer.js';

/** What the dispatcher needs from its supervisor. */
export interface DispatchHost {
  readonly replicas: readonly Replica[];
  readonly perTask: readonly PerTaskAgent[];
  readonly queue: QueueStore;
  readonly log: Logger;
  readonly stopping: boolean;
  /** Until when (epoch ms) `p`'s role may start no run (rate-limit backoff, spent budget); undefined: it may. */
  heldUntil(p: PerTaskAgent, now: number): number | undefined;
  assign(r: Replica, task: Task): void;
  /** Starts a run of `task` (once its stored session, if any, is read). */
  runPerTask(p: PerTaskAgent, task: Task): Promise<void>;
  /** A task taken while the supervisor began to stop: back to the queue, the attempt given back. */
  giveBack(task: Task): Promise<void>;
}

/**
 * Hands pending tasks to idle service replicas (least recently used first) and free
 * per_task slots, one async pass at a time: a `pump()` during a pass asks for one more
 * pass after it. A replica is reserved while its `take()` is in flight. Asks the queue
 * once per role whether anything is pending before leasing (the once-a-second tick would
 * otherwise run a write transaction per idle replica). A store that cannot be read or
 * written (a full disk, a database that is down) leaves the tasks where they are: the
 * next pump (the tick, a wake-up) tries again, and an outage is logged when it starts and
 * when it ends, not at every pass.
 */
export class Dispatcher {
  private running: Promise<void> | undefined;
  private again = false;
  private downSince: number | undefined;
  private readonly reserved = new Set<Replica>();

  constructor(private readonly host: DispatchHost, private readonly wake: WakeTimer) {}

  /** Whether the queue's store failed the last pass (since when, epoch ms). */
  get outageSince(): number | undefined {
    return this.downSince;
  }

  pump(): void {
    if (this.host.stopping) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => { this.running = undefined; });
  }

  /** Resolves once the pass in flight, if any, has ended. */
  async settled(): Promise<void> {
    await this.running;
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pass();
        this.up();
      } catch (err) {
        this.down(err);
        return;
      }
    } while (this.again && !this.host.stopping);
  }

  private up(): void {
    if (this.downSince === undefined) return;
    const secs = ((Date.now() - this.downSince) / 1000).toFixed(1);
    this.downSince = undefined;
    this.host.log.warn({ outage_seconds: Number(secs) }, `the task queue answers again after ${secs} s: dispatching resumes`);
  }

  private down(err: unknown): void {
    if (err instanceof DiskFullError) return; // the disk watch says it, and the tick tries again
    if (this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.host.log.error({ err: (err as Error).message }, `the task queue cannot be read or written (${(err as Error).message}): no new task is dispatched until it answers (tried again every second); running agents keep their tasks`);
  }

  private async pass(): Promise<void> {
    const { host } = this;
    const pending = new Map<string, Promise<boolean>>();
    const hasPending = (role: string) => {
      let p = pending.get(role);
      if (p === undefined) pending.set(role, (p = host.queue.hasPending(role)));
      return p;
    };
    const ready = (r: Replica) => r.isIdle && r.state.kind === 'running' && !this.reserved.has(r);
    // Least recently used first, so the idle replicas of a role take turns (qaa-0 and qaa-1
    // both work) rather than the first in config order taking every task.
    for (const r of leastRecentlyUsed([...host.replicas])) {
      if (!ready(r) || !(await hasPending(r.role)) || host.stopping || !ready(r)) continue;
      this.reserved.add(r);
      let task: Task | undefined;
      try {
        task = await host.queue.take(r.role, r.slot, { agent: r.config.name, replica: String(r.index) });
      } finally {
        this.reserved.delete(r);
      }
      if (!task) pending.set(r.role, Promise.resolve(false));
      else if (host.stopping) await host.giveBack(task);
      else host.assign(r, task);
    }
    const now = Date.now();
    let heldUntil: number | undefined;
    for (const p of host.perTask) {
      const held = host.heldUntil(p, now);
      if (held !== undefined) {
        heldUntil = Math.min(heldUntil ?? held, held);
        continue;
      }
      if (!(await hasPending(p.role))) continue;
      while (p.hasCapacity && !host.stopping) {
        const task = await host.queue.take(p.role, p.config.name, { agent: p.config.name });
        if (!task) { pending.set(p.role, Promise.resolve(false)); break; }
        if (host.stopping) await host.giveBack(task);
        else await host.runPerTask(p, task);
      }
    }
    const due = await host.queue.nextDueAt();
    this.wake.arm(due === undefined || heldUntil === undefined ? (due ?? heldUntil) : Math.min(due, heldUntil));
  }
}
