import { zeroCounters, type ChannelCounters } from './Notifier.js';

/** Options of a DeliveryQueue. */
export interface DeliveryQueueOptions<T> {
  /** Items that may wait behind the one in flight; when full, the oldest waiting one is dropped. Default 100. */
  capacity?: number;
  /** Delivers one item (with its retries). `signal` aborts when the queue is closed. */
  deliver(item: T, signal: AbortSignal): Promise<void>;
  /** Called after an item failed for good. */
  onFailure?(item: T, err: unknown): void;
  /** Called for each item dropped unsent. */
  onDrop?(item: T, why: 'queue_full' | 'closed'): void;
}

const DEFAULT_CAPACITY = 100;
const ABORT_SETTLE_MS = 100;

/**
 * A bounded, one-at-a-time background delivery queue. `push()` never blocks and
 * never throws; memory is bounded by `capacity + 1` items however slow or dead
 * the destination is. Every item ends in exactly one counter: sent, failed or
 * dropped.
 */
export class DeliveryQueue<T> {
  private readonly pending: T[] = [];
  private readonly counts = zeroCounters();
  private readonly abort = new AbortController();
  private readonly capacity: number;
  private running: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  private silent = false;

  constructor(private readonly opts: DeliveryQueueOptions<T>) {
    const c = opts.capacity ?? DEFAULT_CAPACITY;
    if (!Number.isInteger(c) || c < 0) throw new RangeError(`Expected the \`capacity\` option to be a non-negative integer, got \`${c}\``);
    this.capacity = c;
  }

  /** Queues an item for delivery and returns at once. */
  push(item: T): void {
    if (this.closing) return this.drop(item, 'closed');
    if (this.pending.length >= this.capacity) {
      const oldest = this.pending.shift();
      if (oldest !== undefined) this.drop(oldest, 'queue_full');
      else if (this.running) return this.drop(item, 'queue_full'); // capacity 0 and busy
    }
    this.pending.push(item);
    this.running ??= this.run();
  }

  /** A copy of the counters. */
  counters(): ChannelCounters {
    return { ...this.counts };
  }

  /** Items waiting behind the one in flight. */
  get depth(): number {
    return this.pending.length;
  }

  /**
   * Takes no more items, waits up to `graceMs` for the queue to empty, then
   * aborts the delivery in flight and drops what is still waiting. Callbacks stop
   * once it resolves (counters still count). Idempotent.
   */
  close(graceMs = 2000): Promise<void> {
    this.closing ??= (async () => {
      await this.settled(graceMs);
      this.abort.abort(new Error('the supervisor is stopping'));
      for (const item of this.pending.splice(0)) this.drop(item, 'closed');
      await this.settled(ABORT_SETTLE_MS); // an aborted request fails at once: count and log it now
      this.silent = true; // a delivery still asleep in a retry delay may end after the log is closed
    })();
    return this.closing;
  }

  /** Waits until nothing is in flight, or `ms` at most. */
  private async settled(ms: number): Promise<void> {
    if (!this.running) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((r) => { timer = setTimeout(r, ms); })]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    await Promise.resolve(); // never deliver inside push()
    while (this.pending.length > 0 && !this.abort.signal.aborted) {
      const item = this.pending.shift() as T;
      try {
        await this.opts.deliver(item, this.abort.signal);
        this.counts.sent++;
      } catch (err) {
        this.counts.failed++;
        if (!this.silent) safely(() => this.opts.onFailure?.(item, err));
      }
    }
    this.running = undefined;
  }

  private drop(item: T, why: 'queue_full' | 'closed'): void {
    this.counts.dropped++;
    if (!this.silent) safely(() => this.opts.onDrop?.(item, why));
  }
}

/** Runs a callback whose exceptions must not escape (they would land in a timer or in notify()). */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // a logging callback failed: nothing sensible left to do
  }
}
