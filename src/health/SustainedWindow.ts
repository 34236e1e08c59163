/** Where a sustained window stands after its last observation. */
export interface SustainedState {
  /** The last observation exceeded the threshold. */
  exceeded: boolean;
  /** Exceeded without interruption for at least the window. */
  sustained: boolean;
  /** Epoch ms of the first observation of the current unbroken run of excesses. */
  since: number | undefined;
  /** The last observed value. */
  value: number | undefined;
  /** Highest value of the current run. */
  peak: number | undefined;
}

/**
 * "Over the threshold for a sustained window, not a single sample": a run of
 * observations that all exceed, spanning at least `windowMs` from its first to
 * its latest observation. One observation below the threshold ends the run; so
 * does a gap longer than `maxGapMs` between observations (samples that stopped
 * say nothing about the time in between). Time comes from the observations, so
 * a fake clock tests it completely.
 */
export class SustainedWindow {
  private since: number | undefined;
  private lastAt: number | undefined;
  private value: number | undefined;
  private peak: number | undefined;

  /**
   * @param windowMs how long the threshold must stay exceeded, ms (≥ 0; 0 means one sample is enough).
   * @param maxGapMs the longest silence between two observations that keeps a run going, ms. Default: no limit.
   * @throws RangeError when `windowMs` is negative or not finite.
   */
  constructor(readonly windowMs: number, private readonly maxGapMs = Infinity) {
    if (!Number.isFinite(windowMs) || windowMs < 0) throw new RangeError(`Expected \`windowMs\` to be a non-negative number, got \`${String(windowMs)}\``);
  }

  /** Records one observation: `value` at `atMs`, and whether it exceeds the threshold. Older observations are ignored. */
  update(atMs: number, exceeded: boolean, value: number): SustainedState {
    if (this.lastAt !== undefined && atMs < this.lastAt) return this.state();
    if (this.lastAt !== undefined && atMs - this.lastAt > this.maxGapMs) this.since = undefined;
    this.lastAt = atMs;
    this.value = value;
    if (!exceeded) {
      this.since = undefined;
      this.peak = undefined;
    } else if (this.since === undefined) {
      this.since = atMs;
      this.peak = value;
    } else {
      this.peak = Math.max(this.peak ?? value, value);
    }
    return this.state();
  }

  state(): SustainedState {
    const exceeded = this.since !== undefined;
    const sustained = exceeded && (this.lastAt as number) - (this.since as number) >= this.windowMs;
    return { exceeded, sustained, since: this.since, value: this.value, peak: exceeded ? this.peak : undefined };
  }

  /** Forgets everything (the process restarted). */
  reset(): void {
    this.since = this.lastAt = this.value = this.peak = undefined;
  }
}
