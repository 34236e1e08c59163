/**
 * A token bucket: holds at most `capacity` tokens and gains `ratePerSecond`
 * tokens per second of the injected clock. Each action takes one token; with an
 * empty bucket the action is refused (never queued).
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  /**
   * @param capacity burst size, in tokens (≥ 1)
   * @param ratePerSecond refill rate, tokens per second (> 0)
   * @param now clock in epoch ms; defaults to Date.now
   * @throws RangeError for a capacity below 1 or a rate that is not positive
   */
  constructor(readonly capacity: number, readonly ratePerSecond: number, private readonly now: () => number = Date.now) {
    if (!Number.isFinite(capacity) || capacity < 1) throw new RangeError(`Expected the token bucket capacity to be at least 1, got \`${capacity}\``);
    if (!Number.isFinite(ratePerSecond) || ratePerSecond <= 0) throw new RangeError(`Expected the token bucket rate to be a positive number of tokens per second, got \`${ratePerSecond}\``);
    this.tokens = capacity;
    this.updatedAt = now();
  }

  /** Takes one token if there is one. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until the next token is available (0 when one is). */
  msUntilNext(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000);
  }

  private refill(): void {
    const t = this.now();
    const elapsed = Math.max(0, t - this.updatedAt) / 1000;
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.ratePerSecond);
    this.updatedAt = t;
  }
}
