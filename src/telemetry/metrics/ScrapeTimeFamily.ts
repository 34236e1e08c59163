import type { ExpositionFormat } from './exposition.js';

/** Label names and values of one series. */
export type Labels = Readonly<Record<string, string>>;

/**
 * Emits one series of a scrape-time family. `shared` should be an object that is
 * reused from scrape to scrape for the same series (e.g. a slot's frozen labels):
 * its text is formatted once and cached by identity. `extra` holds the remaining
 * labels, best also interned (see labelOf).
 */
export type Emit = (shared: Labels, value: number, extra?: Labels) => void;

const NO_LABELS: Labels = Object.freeze({});
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Formatted label text by labels object (the objects are frozen and reused). */
const labelText = new WeakMap<Labels, string>();
const escapeHelp = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeValue = (s: string) => escapeHelp(s).replace(/"/g, '\\"');
function textOf(labels: Labels): string {
  let t = labelText.get(labels);
  if (t === undefined) {
    t = Object.entries(labels).map(([k, v]) => `${k}="${escapeValue(v)}"`).join(',');
    labelText.set(labels, t);
  }
  return t;
}
/** As prom-client writes values (Go's ParseFloat, which Prometheus uses, takes `Nan`). */
const valueText = (v: number) => (Number.isNaN(v) ? 'Nan' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : `${v}`);

/**
 * A gauge or counter whose series are all produced by `fill` when scraped, with
 * nothing stored in between: series of things that went away vanish. It renders
 * itself in either format, byte for byte as prom-client's Registry would, but
 * without prom-client's per-`set` label hashing and validation and with each
 * series' label text formatted once: at 1,000 agents these families are most of
 * the scrape. Registered on a prom-client Registry, it also answers `get()` (for
 * `getMetricsAsJSON` and the Registry's own `metrics()`).
 */
export class ScrapeTimeFamily {
  readonly aggregator = 'sum';

  /** @throws TypeError naming an invalid metric or label name, or a counter not ending in _total. */
  constructor(readonly name: string, readonly help: string, readonly type: 'gauge' | 'counter', labelNames: readonly string[], private readonly fill: (emit: Emit) => void) {
    if (!METRIC_NAME.test(name)) throw new TypeError(`Invalid metric name \`${name}\`: expected [a-zA-Z_:][a-zA-Z0-9_:]*`);
    if (type === 'counter' && !name.endsWith('_total')) throw new TypeError(`Invalid counter name \`${name}\`: counters end with _total`);
    const bad = labelNames.find((l) => !LABEL_NAME.test(l) || l.startsWith('__'));
    if (bad !== undefined) throw new TypeError(`Invalid label name \`${bad}\` on \`${name}\``);
  }

  /** The family's text: HELP, TYPE and one line per series (OpenMetrics names a counter family without `_total`). */
  render(format: ExpositionFormat): string {
    const family = format === 'openmetrics' && this.type === 'counter' ? this.name.slice(0, -'_total'.length) : this.name;
    const lines = [`# HELP ${family} ${escapeHelp(this.help)}`, `# TYPE ${family} ${this.type}`];
    this.fill((shared, value, extra) => {
      const s = textOf(shared);
      const e = extra ? textOf(extra) : '';
      const labels = e && s ? `${e},${s}` : e || s;
      lines.push(`${this.name}${labels ? `{${labels}}` : ''} ${valueText(value)}`);
    });
    return lines.join('\n');
  }

  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: { labels: Labels; sharedLabels: Labels; value: number }[] }> {
    const values: { labels: Labels; sharedLabels: Labels; value: number }[] = [];
    this.fill((shared, value, extra = NO_LABELS) => values.push({ labels: extra, sharedLabels: shared, value }));
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {
    // nothing stored
  }
}
