import type { Sample } from './series.js';

/**
 * One series' samples, oldest first, in two flat arrays: 16 bytes a sample, where a
 * `Sample` object in an array takes about 68 on 64-bit Node. A detector keeps up to
 * three windows and a bucket of them (915 at 1 s sampling with the defaults), two
 * series per agent: at 50 agents that was about 6 MB of the supervisor's heap.
 * Judgements take the samples they need as objects ({@link between}).
 */
export class SampleBuffer {
  private ts = new Float64Array(64);
  private bytes = new Float64Array(64);
  private head = 0;
  private tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  /** The time of the newest sample, or undefined when there is none. */
  lastT(): number | undefined {
    return this.tail > this.head ? this.ts[this.tail - 1] : undefined;
  }

  /** Appends a sample (callers keep `t` increasing). */
  push(t: number, bytes: number): void {
    if (this.tail === this.ts.length) this.makeRoom();
    this.ts[this.tail] = t;
    this.bytes[this.tail] = bytes;
    this.tail++;
  }

  /** Forgets the samples older than `t`. */
  dropBefore(t: number): void {
    while (this.head < this.tail && this.ts[this.head]! < t) this.head++;
  }

  /** The samples with `from ≤ t ≤ to`, oldest first, as new objects. */
  between(from: number, to: number): Sample[] {
    const out: Sample[] = [];
    for (let i = this.head; i < this.tail; i++) {
      const t = this.ts[i]!;
      if (t >= from && t <= to) out.push({ t, bytes: this.bytes[i]! });
    }
    return out;
  }

  clear(): void {
    this.head = 0;
    this.tail = 0;
  }

  /**
   * Moves the samples to the front when a sixteenth of them (16 at least) is free there, else
   * doubles the arrays. A sliding window then stays in the arrays it first grew to: copying n
   * samples every n / 16 pushes or more is about 16 copies a push.
   */
  private makeRoom(): void {
    const n = this.tail - this.head;
    if (this.head >= Math.max(16, n / 16)) {
      this.ts.copyWithin(0, this.head, this.tail);
      this.bytes.copyWithin(0, this.head, this.tail);
    } else {
      const ts = new Float64Array(this.ts.length * 2);
      const bytes = new Float64Array(this.ts.length * 2);
      ts.set(this.ts.subarray(this.head, this.tail));
      bytes.set(this.bytes.subarray(this.head, this.tail));
      this.ts = ts;
      this.bytes = bytes;
    }
    this.head = 0;
    this.tail = n;
  }
}
