import type { Labels } from './define.js';
import type { SlotLabels } from './source.js';

export interface Bucket { le: Labels; value: number }
/** One series of one slot: the point's labels (attributes, sanitised) and its value, or its histogram. */
export interface Series {
  readonly key: string;
  readonly labels: Labels;
  readonly value: number;
  readonly hist?: { buckets: Bucket[]; sum: number; count: number };
  /** labels plus the slot's, for prom-client (which caches a labels object's text). */
  merged?: { of: SlotLabels; labels: Labels };
}

/** One exported family, held by every slot that currently reports it. */

/** Interned `{le}` labels (agents choose their boundaries: the cache is bounded). */
const le = new Map<string, Labels>();
const leOf = (bound: string): Labels => {
  let l = le.get(bound);
  if (!l) {
    l = Object.freeze({ le: bound });
    if (le.size < 4096) le.set(bound, l);
  }
  return l;
};
const INF = leOf('+Inf');

/**
 * A histogram family read from the stored snapshots when scraped, in prom-client's
 * shape (its `get()`): the exposition renders it in both formats.
 */
export class HistogramFamily {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  constructor(readonly name: string, readonly help: string, private readonly each: (fn: (slot: SlotLabels, s: Series) => void) => void) {}

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Labels; sharedLabels: Labels; value: number; metricName: string }[] }> {
    const values: { labels: Labels; sharedLabels: Labels; value: number; metricName: string }[] = [];
    const bucket = `${this.name}_bucket`;
    const sum = `${this.name}_sum`;
    const count = `${this.name}_count`;
    const none: Labels = Object.freeze({});
    this.each((slot, s) => {
      if (!s.hist) return;
      if (s.merged?.of !== slot) s.merged = { of: slot, labels: Object.freeze({ ...s.labels, ...slot }) };
      const shared = s.merged.labels;
      for (const b of s.hist.buckets) values.push({ labels: b.le, sharedLabels: shared, value: b.value, metricName: bucket });
      values.push({ labels: INF, sharedLabels: shared, value: s.hist.count, metricName: bucket });
      values.push({ labels: none, sharedLabels: shared, value: s.hist.sum, metricName: sum });
      values.push({ labels: none, sharedLabels: shared, value: s.hist.count, metricName: count });
    });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    // nothing stored
  }
}

/** OTel's per-bucket counts as Prometheus' cumulative `le` buckets (+Inf is the count). */
export function cumulative(p: { count: number; sum: number; buckets: { boundaries: number[]; counts: number[] } }): NonNullable<Series['hist']> {
  let acc = 0;
  const buckets = p.buckets.boundaries.map((b, i) => ({ le: leOf(`${b}`), value: (acc += p.buckets.counts[i] ?? 0) }));
  return { buckets, sum: p.sum, count: p.count };
}
