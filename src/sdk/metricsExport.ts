/**
 * The agent's own OpenTelemetry metrics, sent to the supervisor as protocol
 * `metrics` messages (docs/protocol.md, docs/metrics.md "Custom agent metrics").
 * connect() loads this module only when it installs the meter provider: the OTel
 * metrics SDK takes about 100 ms to load.
 */
import { metrics, type AttributeValue, type Attributes } from '@opentelemetry/api';
import { DataPointType, MeterProvider, MetricReader, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { METRICS_LIMITS as L, METRICS_PAYLOAD_VERSION, type HistogramPointV1, type MetricV1, type NumberPointV1, type ResourceMetricsV1 } from '../protocol/metricsPayload.js';
import type { Logger } from './logger.js';

/** A metric the encoder left out, and why. */
export interface SkippedMetric {
  name: string;
  why: string;
}

export interface Encoded {
  /** Undefined when there is no series to send. */
  payload: ResourceMetricsV1 | undefined;
  /** Series in the payload (a histogram's attribute set is one). */
  series: number;
  /** Series left out to keep the line within `maxLineBytes`. */
  dropped: number;
  skipped: SkippedMetric[];
}

const trunc = (s: string, n: number): string => (s.length > n ? s.slice(0, n) : s);

function attributeText(v: AttributeValue | undefined): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Attributes as strings, keys sorted, within the payload's limits; undefined when there are none. */
function encodeAttributes(attributes: Attributes): Record<string, string> | undefined {
  let out: Record<string, string> | undefined;
  let n = 0;
  for (const key of Object.keys(attributes).sort()) {
    if (key === '' || n >= L.attributes) continue;
    const text = attributeText(attributes[key]);
    if (text === undefined) continue;
    (out ??= {})[trunc(key, L.attributeKeyChars)] = trunc(text, L.attributeValueChars);
    n++;
  }
  return out;
}

const withAttributes = <P extends object>(attributes: Attributes, point: P): P & { attributes?: Record<string, string> } => {
  const a = encodeAttributes(attributes);
  return a ? { attributes: a, ...point } : point;
};

/** One OTel metric in the payload's shape, or why it cannot be sent. */
function encodeMetric(m: MetricData): MetricV1 | SkippedMetric {
  const { name, description, unit } = m.descriptor;
  const base = { name: trunc(name, L.nameChars), ...(description ? { description: trunc(description, L.descriptionChars) } : {}), ...(unit ? { unit: trunc(unit, L.unitChars) } : {}) };
  switch (m.dataPointType) {
    case DataPointType.SUM:
    case DataPointType.GAUGE: {
      const counter = m.dataPointType === DataPointType.SUM && m.isMonotonic;
      const points: NumberPointV1[] = [];
      // JSON has no NaN or Infinity, and a counter is never negative: such points are left out.
      for (const p of m.dataPoints) if (Number.isFinite(p.value) && (!counter || p.value >= 0)) points.push(withAttributes(p.attributes, { value: p.value }));
      return { ...base, kind: counter ? 'counter' : 'gauge', points };
    }
    case DataPointType.HISTOGRAM: {
      const points: HistogramPointV1[] = [];
      for (const p of m.dataPoints) {
        const { boundaries, counts } = p.value.buckets;
        if (boundaries.length > L.boundaries) return { name, why: `more than ${L.boundaries} bucket boundaries` };
        if (p.value.sum === undefined || !Number.isFinite(p.value.sum)) continue;
        points.push(withAttributes(p.attributes, { count: p.value.count, sum: p.value.sum, buckets: { boundaries: [...boundaries], counts: [...counts] } }));
      }
      return { ...base, kind: 'histogram', points };
    }
    default:
      return { name, why: 'exponential histograms are not supported; use explicit buckets' };
  }
}

const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v));

/**
 * Encodes what a MetricReader collected (cumulative temporality) as a `metrics`
 * message's `resource_metrics`. When the whole message, with its newline, would be
 * longer than `maxLineBytes`, series are kept in order until it fits and the rest
 * are left out (counted in `dropped` and in the payload's `dropped_series`).
 */
export function encodeResourceMetrics(rm: ResourceMetrics, maxLineBytes = Infinity): Encoded {
  const skipped: SkippedMetric[] = [];
  const scopes: ResourceMetricsV1['scope_metrics'] = [];
  let series = 0;
  for (const sm of rm.scopeMetrics) {
    const list: MetricV1[] = [];
    for (const m of sm.metrics) {
      const e = encodeMetric(m);
      if ('why' in e) skipped.push(e);
      else if (e.points.length > 0) {
        list.push(e);
        series += e.points.length;
      }
    }
    if (list.length) scopes.push({ scope: { name: sm.scope.name, ...(sm.scope.version ? { version: sm.scope.version } : {}) }, metrics: list });
  }
  if (series === 0) return { payload: undefined, series: 0, dropped: 0, skipped };
  const payload: ResourceMetricsV1 = { version: METRICS_PAYLOAD_VERSION, scope_metrics: scopes };
  const size = (p: ResourceMetricsV1) => bytes({ type: 'metrics', resource_metrics: p }) + 1;
  if (maxLineBytes === Infinity || size(payload) <= maxLineBytes) return { payload, series, dropped: 0, skipped };
  // Too long: keep a prefix of the series, estimating each part's size, and check the result.
  for (let budget = maxLineBytes - 64, round = 0; round < 8 && budget > 0; round++, budget = Math.floor(budget * 0.9)) {
    const kept = truncate(scopes, budget - size({ version: METRICS_PAYLOAD_VERSION, scope_metrics: [] }));
    const out: ResourceMetricsV1 = { version: METRICS_PAYLOAD_VERSION, scope_metrics: kept.scopes, dropped_series: series - kept.series };
    if (kept.series === 0) break;
    if (size(out) <= maxLineBytes) return { payload: out, series: kept.series, dropped: series - kept.series, skipped };
  }
  return { payload: undefined, series: 0, dropped: series, skipped };
}

function truncate(scopes: ResourceMetricsV1['scope_metrics'], budget: number): { scopes: ResourceMetricsV1['scope_metrics']; series: number } {
  const out: ResourceMetricsV1['scope_metrics'] = [];
  let used = 0;
  let series = 0;
  for (const s of scopes) {
    const scope = { ...s, metrics: [] as MetricV1[] };
    const scopeCost = bytes({ ...s, metrics: [] }) + 1;
    for (const m of s.metrics) {
      const points: unknown[] = [];
      const metricCost = bytes({ ...m, points: [] }) + 1;
      for (const p of m.points) {
        const cost = bytes(p) + 1 + (points.length === 0 ? metricCost + (scope.metrics.length === 0 ? scopeCost : 0) : 0);
        if (used + cost > budget) {
          if (points.length) scope.metrics.push({ ...m, points } as MetricV1);
          if (scope.metrics.length) out.push(scope);
          return { scopes: out, series };
        }
        used += cost;
        points.push(p);
        series++;
      }
      scope.metrics.push({ ...m, points } as MetricV1);
    }
    out.push(scope);
  }
  return { scopes: out, series };
}

export interface ProtocolMetricReaderOptions {
  /** Sends one protocol message (the agent's channel; dropped once it is closed). */
  send(message: { type: 'metrics'; resource_metrics: ResourceMetricsV1 }): void;
  /** Milliseconds between two messages. */
  intervalMs: number;
  /** `welcome.settings.max_line_bytes`. */
  maxLineBytes: number;
  logger: Logger;
}

/**
 * A MetricReader that collects every `intervalMs` (on an unref()'d timer) and at
 * shutdown, and sends one `metrics` message with everything, cumulative since the
 * start. Nothing happens per recorded value beyond the OTel SDK's own aggregation.
 * Problems are logged once each (warn), never thrown.
 */
export class ProtocolMetricReader extends MetricReader {
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly warned = new Set<string>();

  constructor(private readonly o: ProtocolMetricReaderOptions) {
    super(); // cumulative temporality for every instrument
  }

  /** Collects and sends now (waits for a collection already running, then runs one more). */
  async flush(): Promise<void> {
    await this.inFlight;
    this.inFlight = this.collectAndSend().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  protected override onInitialized(): void {
    this.timer = setInterval(() => {
      if (!this.inFlight) void this.flush();
    }, this.o.intervalMs);
    this.timer.unref();
  }

  protected override async onForceFlush(): Promise<void> {
    await this.flush();
  }

  protected override async onShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  private async collectAndSend(): Promise<void> {
    try {
      const { resourceMetrics, errors } = await this.collect();
      for (const err of errors) this.warnOnce('collect', { err: err instanceof Error ? err.message : String(err) }, 'an OpenTelemetry metric callback failed; its metric is missing from this collection');
      const e = encodeResourceMetrics(resourceMetrics, this.o.maxLineBytes);
      for (const s of e.skipped) this.warnOnce(`skip:${s.name}`, { metric: s.name, why: s.why }, `metric ${s.name} is not sent to the supervisor: ${s.why}`);
      if (e.dropped > 0) {
        this.warnOnce('line', { dropped_series: e.dropped, series: e.series, max_line_bytes: this.o.maxLineBytes }, 'the metrics message would be longer than max_line_bytes: series beyond the limit are left out');
      }
      if (e.payload) this.o.send({ type: 'metrics', resource_metrics: e.payload });
    } catch (err) {
      this.warnOnce('error', { err: (err as Error).message }, 'could not collect or send the agent metrics');
    }
  }

  private warnOnce(key: string, fields: Record<string, unknown>, msg: string): void {
    if (this.warned.has(key) || this.warned.size > 100) return;
    this.warned.add(key);
    this.o.logger.warn(fields, msg);
  }
}

/**
 * Registers a MeterProvider whose reader sends to the supervisor as the global
 * meter provider. Returns its shutdown (a final collection and message, then the
 * global is unregistered), or undefined when a global meter provider was already
 * registered (the application's own wins).
 */
export function installMeterProvider(o: ProtocolMetricReaderOptions): (() => Promise<void>) | undefined {
  const reader = new ProtocolMetricReader(o);
  const provider = new MeterProvider({ readers: [reader] });
  if (!metrics.setGlobalMeterProvider(provider)) {
    void provider.shutdown().catch(() => undefined);
    return undefined;
  }
  let done: Promise<void> | undefined;
  return () => (done ??= provider.shutdown().catch(() => undefined).then(() => {
    if (metrics.getMeterProvider() === provider) metrics.disable();
  }));
}
