import { Registry, type OpenMetricsContentType } from 'prom-client';
import type { AnyRegistry } from './define.js';
import type { ExpositionFormat } from './negotiateFormat.js';
import { ScrapeTimeFamily } from './ScrapeTimeFamily.js';

export { CONTENT_TYPES, negotiateFormat, type ExpositionFormat } from './negotiateFormat.js';

/** What prom-client's Registry reads of a metric when rendering. */
interface Family {
  name: string;
  help: string;
  type: string;
  get(): Promise<FamilyData>;
  getForPromString?(): Promise<FamilyData>;
}
interface Sample {
  metricName?: string;
  labels?: Labels;
  sharedLabels?: Labels;
  value: number;
  exemplar?: { labelSet: Labels; value: number; timestamp: number } | null;
}
interface FamilyData { name: string; values?: Sample[] }
type Labels = Readonly<Record<string, string | number>>;

/**
 * A read-only stand-in per metric and format. prom-client 15 renders OpenMetrics by
 * renaming every counter *in place* (`agentic_tasks_total` → `agentic_tasks`), which
 * would break any later Prometheus-format render of the same metric object; the
 * stand-in carries the family name instead.
 */
const standIns: Record<ExpositionFormat, WeakMap<object, Family>> = { prometheus: new WeakMap(), openmetrics: new WeakMap() };
function standIn(m: Family, format: ExpositionFormat): Family {
  let s = standIns[format].get(m);
  if (!s) {
    const name = format === 'openmetrics' && m.type === 'counter' ? m.name.replace(/_total$/, '') : m.name;
    const get = typeof m.getForPromString === 'function' ? () => m.getForPromString!() : () => m.get();
    s = { name, help: m.help, type: m.type, get };
    standIns[format].set(m, s);
  }
  return s;
}

/**
 * Renders every metric of `source` in `format`, without changing `source` or its
 * metrics: safe to run concurrently, in both formats, on the same registry.
 * Exemplars appear only in OpenMetrics. Families render one at a time, and a
 * prom-client family's samples `chunk` (default 500) at a time, yielding to the
 * event loop whenever `maxBlockMs` (default 5) has passed: at 1,000 agents one
 * histogram family has 14,000 samples, and rendering it whole would hold up
 * heartbeats and ping timing for tens of milliseconds. The text is the same
 * whatever the yields.
 */
export async function renderAs(source: AnyRegistry, format: ExpositionFormat, opts: { maxBlockMs?: number; chunk?: number } = {}): Promise<string> {
  const maxBlockMs = opts.maxBlockMs ?? 5;
  const chunk = Math.max(1, opts.chunk ?? 500);
  let since = performance.now();
  const breathe = async (): Promise<void> => {
    if (performance.now() - since < maxBlockMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    since = performance.now();
  };
  const parts: string[] = [];
  for (const m of source.getMetricsAsArray() as unknown[]) {
    parts.push(m instanceof ScrapeTimeFamily ? m.render(format) : await renderFamily(standIn(m as Family, format), format, chunk, breathe));
    await breathe();
  }
  // as prom-client's Registry.metrics() joins them
  return format === 'openmetrics' ? `${parts.join('\n')}\n# EOF\n` : `${parts.join('\n\n')}\n`;
}

/**
 * A prom-client family's text, byte for byte as prom-client's Registry formats it
 * (`getMetricsAsString`: a HELP line, a TYPE line, then one line per sample, joined
 * by newlines), with `breathe` after every `chunk` samples. prom-client formats every
 * label of every sample on every scrape; here a series' label text is formatted once
 * per labels object and cached by identity (a counter's or gauge's series keeps one
 * object for its life; a histogram's buckets share their series' object and add
 * `le`), which at 1,000 agents was a fifth of the render.
 */
async function renderFamily(f: Family, format: ExpositionFormat, chunk: number, breathe: () => Promise<void>): Promise<string> {
  const data = await f.get();
  const values = data.values ?? [];
  if (values.length > chunk) await breathe(); // reading the family (a histogram's buckets, say) may itself have taken a while
  const name = escapeString(f.name);
  const lines = [`# HELP ${name} ${escapeString(f.help)}`, `# TYPE ${name} ${f.type}`];
  const om = format === 'openmetrics';
  const counterSuffix = om && f.type === 'counter' ? '_total' : '';
  for (let i = 0; i < values.length; i++) {
    if (i > 0 && i % chunk === 0) await breathe();
    const v = values[i] as Sample;
    const shared = v.sharedLabels ? labelText(v.sharedLabels) : '';
    const own = v.labels ? (v.sharedLabels ? ownText(v.labels, v.sharedLabels) : labelText(v.labels)) : '';
    const labels = own && shared ? `${own},${shared}` : own || shared;
    let line = `${v.metricName === undefined ? name : v.metricName}${counterSuffix}${labels ? `{${labels}}` : ''} ${valueText(v.value)}`;
    if (om && v.exemplar) line += ` # {${formatLabels(v.exemplar.labelSet)}} ${valueText(v.exemplar.value)} ${v.exemplar.timestamp}`;
    lines.push(line);
  }
  return lines.join('\n');
}

const texts = new WeakMap<Labels, string>();
/** A labels object's text, formatted once per object. */
function labelText(labels: Labels): string {
  let t = texts.get(labels);
  if (t === undefined) texts.set(labels, (t = formatLabels(labels)));
  return t;
}
/** The labels of `labels` that `shared` does not have (a histogram bucket's `le`): not cached, the object is new each scrape. */
function ownText(labels: Labels, shared: Labels): string {
  let t = '';
  for (const k in labels) {
    if (Object.prototype.hasOwnProperty.call(shared, k)) continue;
    t += `${t ? ',' : ''}${k}="${escapeLabelValue(labels[k] as string | number)}"`;
  }
  return t;
}
function formatLabels(labels: Labels): string {
  let t = '';
  for (const [k, v] of Object.entries(labels)) t += `${t ? ',' : ''}${k}="${escapeLabelValue(v)}"`;
  return t;
}
// As prom-client escapes (a label value that is not a string, a bucket's numeric `le`, is written as is).
const escapeString = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
const escapeLabelValue = (v: string | number) => (typeof v === 'string' ? escapeString(v).replace(/"/g, '\\"') : v);
/** As prom-client writes values (Go's ParseFloat, which Prometheus uses, takes `Nan`). */
const valueText = (v: number) => (Number.isNaN(v) ? 'Nan' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : `${v}`);

/**
 * An OpenMetrics registry (prom-client only allows exemplars on those) whose
 * `metrics()` does not rename the counters it holds. Register the metrics of other
 * layers here; {@link renderAs} serves it in either format.
 */
export class ExpositionRegistry extends Registry<OpenMetricsContentType> {
  constructor() {
    super();
    this.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  }

  override metrics(): Promise<string> {
    return renderAs(this, 'openmetrics');
  }
}
