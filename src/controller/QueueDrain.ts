export interface QueueDrainOptions<T> {
  /** The oldest `limit` items still to handle (they stay queued until `handle` removes them). @throws on a store failure */
  next(limit: number): T[];
  /** Handles a batch of items (the oldest) and removes them from the queue. @throws on a failure: the batch stays queued */
  handle(batch: T[]): Promise<void>;
  /** A failure stopped the drain (`batch` is empty when reading the queue failed); it runs again after `retryInMs` (undefined: stopped, not retried). */
  onFailure(err: unknown, batch: T[], retryInMs: number | undefined): void;
  /** Most items handed to `handle` at once. Default 50. */
  batchSize?: number | undefined;
  /** Longest the drain holds the event loop before yielding to other work, ms. Default 10. */
  sliceMs?: number | undefined;
  /** Wait before the first retry after a failure, ms, doubling up to `maxRetryMs`. Default 1000. */
  minRetryMs?: number | undefined;
  /** Longest wait between retries, ms. Default 30000. */
  maxRetryMs?: number | undefined;
}

/**
 * Works through a durable queue in the background, in order, a batch at a time.
 * `kick()` starts it (again); it yields the event loop every `sliceMs` so that the
 * process keeps answering requests, and after a failure it waits (1 s, doubling up
 * to 30 s) and tries again. It never rejects: failures go to `onFailure`. Timers
 * are unref'd; `stop()` is final and leaves what is queued in the queue.
 */
export class QueueDrain<T> {
  private running: Promise<void> | undefined;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs: number;
  private stopped = false;
  private readonly sliceMs: number;
  private readonly batchSize: number;
  private readonly minRetryMs: number;
  private readonly maxRetryMs: number;

  constructor(private readonly opts: QueueDrainOptions<T>) {
    this.sliceMs = opts.sliceMs ?? 10;
    this.batchSize = opts.batchSize ?? 50;
    this.minRetryMs = opts.minRetryMs ?? 1000;
    this.maxRetryMs = opts.maxRetryMs ?? 30_000;
    this.retryMs = this.minRetryMs;
  }

  /**
   * Starts draining once the caller's synchronous work is done (a microtask), or
   * once more after the current run. The first batch runs before the event loop
   * turns, so a small notification is decided at once; then the drain yields, so
   * an answer the caller just wrote is flushed before the rest is handled. No-op
   * while a retry is pending.
   */
  kick(): void {
    if (this.stopped || this.retryTimer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.again = false;
    this.running = Promise.resolve().then(() => this.run()).catch(() => undefined).finally(() => {
      this.running = undefined;
      if (this.again) this.kick();
    });
  }

  /** Stops after the current batch; cancels a pending retry. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Resolves when no run is in progress (a pending retry is not waited for). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    let slice = performance.now();
    let first = true;
    while (!this.stopped) {
      let batch: T[];
      try {
        batch = this.opts.next(this.batchSize);
      } catch (err) {
        return this.failed(err, []);
      }
      if (!batch.length) {
        this.retryMs = this.minRetryMs;
        return;
      }
      try {
        await this.opts.handle(batch);
      } catch (err) {
        return this.failed(err, batch);
      }
      if (first || performance.now() - slice >= this.sliceMs) {
        first = false;
        await new Promise((r) => setImmediate(r));
        slice = performance.now();
      }
    }
  }

  private failed(err: unknown, batch: T[]): void {
    let wait: number | undefined;
    if (!this.stopped) {
      wait = this.retryMs;
      this.retryMs = Math.min(this.retryMs * 2, this.maxRetryMs);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        this.kick();
      }, wait);
      this.retryTimer.unref();
    }
    try {
      this.opts.onFailure(err, batch, wait);
    } catch {
      // A failing failure handler must not take the drain down; the retry is scheduled.
    }
  }
}
