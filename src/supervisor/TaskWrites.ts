import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import type { Logger } from '../telemetry/logger.js';

export interface TaskWritesOptions {
  /**
   * Chain each task's writes (PostgreSQL: every call is a round trip, so a progress report
   * could otherwise land after the task's completion). False for SQLite, whose writes
   * happen in the call itself, in call order.
   */
  ordered: boolean;
  /** Whether a failed outcome write is an outage to wait out (undefined: never retried). */
  transient?: ((err: unknown) => boolean) | undefined;
  /** At most this many outcomes are held in memory waiting for the store (default 10 000). */
  maxHeld?: number | undefined;
  /** First and longest wait between tries of a held outcome, ms (default 250 and 5 000). */
  initialDelayMs?: number | undefined;
  maxDelayMs?: number | undefined;
  log: Logger;
}

/**
 * The queue writes of each task, in the order they were made, and the task outcomes
 * (complete, fail, release) that must not be lost while the database is down: an
 * outcome whose write fails with a transient error is held in memory and tried again,
 * with exponential backoff, until the store takes it or the supervisor stops. Writes of
 * the same task made meanwhile wait behind it.
 */
export class TaskWrites {
  private readonly chains = new Map<string, Promise<unknown>>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();
  private holding = 0;
  private readonly maxHeld: number;

  constructor(private readonly opts: TaskWritesOptions) {
    this.maxHeld = opts.maxHeld ?? 10_000;
  }

  /** Outcomes waiting for the store now. */
  get held(): number {
    return this.holding;
  }

  /** Runs `write` after the earlier writes of `taskId`; its result or its error is the caller's. */
  then<T>(taskId: string, write: () => Promise<T>): Promise<T> {
    const prev = this.opts.ordered ? this.chains.get(taskId) : undefined;
    const next = prev ? prev.then(write, write) : write();
    const tail = next.catch(() => undefined);
    if (this.opts.ordered) this.chains.set(taskId, tail);
    this.inFlight.add(tail);
    void tail.then(() => {
      this.inFlight.delete(tail);
      if (this.chains.get(taskId) === tail) this.chains.delete(taskId);
    });
    return next;
  }

  /**
   * An outcome: as {@link then}, but a transient failure is not the caller's: the write is
   * held and tried again until it succeeds. Rejects only for a non-transient error, when
   * more than `maxHeld` outcomes already wait (logged: that outcome is lost), or when
   * {@link close} gave up waiting.
   */
  outcome<T>(taskId: string, what: string, write: () => Promise<T>): Promise<T> {
    const transient = this.opts.transient;
    if (!transient) return this.then(taskId, write);
    return this.then(taskId, async () => {
      try {
        return await write();
      } catch (err) {
        if (!transient(err)) throw err;
        if (this.holding >= this.maxHeld) {
          this.opts.log.error({ task_id: taskId, err: (err as Error).message, held: this.holding }, `could not ${what}: the queue's database is unreachable and ${this.holding} outcomes already wait in memory (the most held); this one is lost, and the task's lease runs out so another supervisor runs it again`);
          throw err;
        }
        this.holding++;
        this.opts.log.warn({ task_id: taskId, err: (err as Error).message }, `could not ${what}: the queue's database is unreachable; the outcome is held in memory and written once it is back`);
        try {
          const policy = retry(handleWhen(transient), {
            maxAttempts: Number.MAX_SAFE_INTEGER,
            backoff: new ExponentialBackoff({ initialDelay: this.opts.initialDelayMs ?? 250, maxDelay: this.opts.maxDelayMs ?? 5_000 }),
          }).dangerouslyUnref();
          const out = await policy.execute(() => write(), this.abort.signal);
          this.opts.log.info({ task_id: taskId }, `held outcome written: ${what}`);
          return out;
        } finally {
          this.holding--;
        }
      }
    });
  }

  /**
   * Waits up to `graceMs` for the writes in flight (held outcomes included, and the writes
   * they lead to: a run's release after its read), then stops retrying.
   */
  async close(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let late = false;
    const deadline = new Promise((r) => { timer = setTimeout(() => { late = true; r(undefined); }, graceMs); timer.unref(); });
    while (this.inFlight.size && !late) await Promise.race([Promise.allSettled([...this.inFlight]), deadline]);
    clearTimeout(timer);
    if (this.holding) this.opts.log.error({ held: this.holding }, `stopping with ${this.holding} task outcomes not written (the queue's database is unreachable): their leases run out and other supervisors run those tasks again`);
    this.abort.abort();
  }
}
