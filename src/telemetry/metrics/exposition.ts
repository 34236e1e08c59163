import { Registry, type Metric, type OpenMetricsContentType, type PrometheusContentType } from 'prom-client';
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
interface FamilyData { name: string; values?: { labels?: object; sharedLabels?: object }[] }

const NO_LABELS = Object.freeze({});

/**
 * prom-client's Registry formats `sharedLabels` once per object (a WeakMap by
 * identity) but `labels` on every render, and gives every sample without
 * `sharedLabels` a fresh `{}` that defeats that cache. Its counters and gauges keep
 * one labels object per series, so handing it over as `sharedLabels` makes the
 * label text of a series render once, not once per scrape.
 */
function shareLabels<V extends { labels?: object; sharedLabels?: object }>(v: V): V {
  return v.sharedLabels ? v : { ...v, labels: NO_LABELS, sharedLabels: v.labels ?? NO_LABELS };
}

/**
 * A read-only stand-in per metric and format, which is what the view registries
 * hold. prom-client 15 renders OpenMetrics by renaming every counter *in place*
 * (`agentic_tasks_total` → `agentic_tasks`), which would break any later
 * Prometheus-format render of the same metric object; the stand-in carries the
 * family name instead, and shares labels (see shareLabels).
 */
const standIns: Record<ExpositionFormat, WeakMap<object, Family>> = { prometheus: new WeakMap(), openmetrics: new WeakMap() };
function standIn(m: Family, format: ExpositionFormat): Family {
  let s = standIns[format].get(m);
  if (!s) {
    const name = format === 'openmetrics' && m.type === 'counter' ? m.name.replace(/_total$/, '') : m.name;
    const read = typeof m.getForPromString === 'function' ? () => m.getForPromString!() : () => m.get();
    const get = async (): Promise<FamilyData> => {
      const d = await read();
      return { ...d, name, values: d.values?.map(shareLabels) };
    };
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
  const view = newRegistry(format);
  const families = (source.getMetricsAsArray() as unknown[]).map((m) => (m instanceof ScrapeTimeFamily ? m : new Slices(view, standIn(m as Family, format))));
  let since = performance.now();
  const breathe = async (): Promise<void> => {
    if (performance.now() - since < maxBlockMs) return;
    await new Promise((resolve) => setImmediate(resolve));
    since = performance.now();
  };
  const parts: string[] = [];
  for (const f of families) {
    parts.push(f instanceof ScrapeTimeFamily ? f.render(format) : await f.render(chunk, breathe));
    await breathe();
  }
  // as prom-client's Registry.metrics() joins them
  return format === 'openmetrics' ? `${parts.join('\n')}\n# EOF\n` : `${parts.join('\n\n')}\n`;
}

/**
 * A prom-client family registered on a render's view registry, whose text the view
 * formats (prom-client's `getMetricsAsString`: a HELP line, a TYPE line, then one
 * line per sample, joined by newlines) `chunk` samples at a time, with `breathe`
 * between chunks. Each sample's line depends on that sample alone, so the chunks,
 * each without its header but the first, join into the same text.
 */
class Slices {
  readonly name: string;
  readonly help: string;
  readonly type: string;
  private slice: FamilyData | undefined;

  constructor(private readonly view: AnyRegistry, private readonly family: Family) {
    ({ name: this.name, help: this.help, type: this.type } = family);
    view.registerMetric(this as unknown as Metric);
  }

  /** What the view reads: the current slice. */
  get(): Promise<FamilyData> {
    return Promise.resolve(this.slice ?? { name: this.name, values: [] });
  }

  async render(chunk: number, breathe: () => Promise<void>): Promise<string> {
    const data = await this.family.get();
    const values = data.values ?? [];
    const asText = (from: number) => {
      this.slice = { ...data, values: values.slice(from, from + chunk) };
      return this.view.getSingleMetricAsString(this.name);
    };
    try {
      if (values.length <= chunk) return await asText(0);
      await breathe(); // reading the family (a histogram's buckets, say) may itself have taken a while
      const parts = [await asText(0)];
      for (let i = chunk; i < values.length; i += chunk) {
        await breathe();
        const text = await asText(i);
        parts.push(text.slice(text.indexOf('\n', text.indexOf('\n') + 1) + 1)); // without "# HELP …\n# TYPE …\n" (HELP is escaped to one line)
      }
      return parts.join('\n');
    } finally {
      this.slice = undefined;
    }
  }
}

/** A plain prom-client registry of `format` (its typings lack the constructor's content-type argument). */
function newRegistry(format: ExpositionFormat): AnyRegistry {
  if (format === 'prometheus') return new Registry<PrometheusContentType>();
  const r = new Registry<OpenMetricsContentType>();
  r.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  return r;
}

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
