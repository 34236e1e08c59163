import { metrics, type Meter } from '@opentelemetry/api';
import { AggregationType, MeterProvider, type ViewOptions } from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeAgentLine } from '../../src/protocol/codec.js';
import { resourceMetricsSchema } from '../../src/protocol/messages.js';
import type { MetricV1, ResourceMetricsV1 } from '../../src/protocol/metricsPayload.js';
import { createAgentLogger } from '../../src/sdk/logger.js';
import { installMeterProvider, ProtocolMetricReader } from '../../src/sdk/metricsExport.js';

type Sent = { type: 'metrics'; resource_metrics: ResourceMetricsV1 };

/** A real MeterProvider whose ProtocolMetricReader sends into `sent`, with the warnings it logs in `warnings`. */
function setup(opts: { intervalMs?: number; maxLineBytes?: number; views?: ViewOptions[] } = {}) {
  const sent: Sent[] = [];
  const lines: string[] = [];
  const logger = createAgentLogger({ agent: 'qaa', agent_id: 'qaa-0', role: 'qaa' }, 'debug', { write: (s: string) => void lines.push(s) });
  const reader = new ProtocolMetricReader({ send: (m) => sent.push(m), intervalMs: opts.intervalMs ?? 3_600_000, maxLineBytes: opts.maxLineBytes ?? 1024 * 1024, logger });
  const provider = new MeterProvider({ readers: [reader], views: opts.views });
  providers.push(provider);
  const warnings = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40).map((l) => l.msg);
  return { sent, reader, provider, meter: provider.getMeter('test-scope', '1.2.3'), warnings };
}

let providers: MeterProvider[] = [];
afterEach(async () => {
  await Promise.all(providers.map((p) => p.shutdown().catch(() => undefined)));
  providers = [];
  metrics.disable();
});

const metric = (m: Sent | undefined, name: string): MetricV1 | undefined => m?.resource_metrics.scope_metrics.flatMap((s) => s.metrics).find((x) => x.name === name);
const lineOf = (m: Sent) => `${JSON.stringify(m)}\n`;

function recordAll(meter: Meter): void {
  const items = meter.createCounter('items.processed', { description: 'Items processed.', unit: '{item}' });
  items.add(3, { kind: 'story', 'http.status': 200, retried: false, tags: ['a', 'b'] });
  items.add(1, { kind: 'bug' });
  const step = meter.createHistogram('step.duration', { description: 'Step duration.', unit: 's', advice: { explicitBucketBoundaries: [0.1, 1, 10] } });
  for (const v of [0.05, 0.5, 0.7, 20]) step.record(v, { kind: 'story' });
  const queue = meter.createUpDownCounter('queue.items');
  queue.add(5);
  queue.add(-7);
  const temp = meter.createObservableGauge('room.temperature', { description: 'Temperature.' });
  temp.addCallback((r) => {
    r.observe(21.5, { room: 'lab' });
    r.observe(NaN, { room: 'broken' }); // JSON cannot carry it: left out
  });
}

describe('Node SDK metrics: the encoder (real OTel MeterProvider)', () => {
  it('encodes a counter, a histogram, an up-down counter and an observable gauge in the v1 shape, which the supervisor\'s schema accepts', async () => {
    const { sent, reader, meter } = setup();
    recordAll(meter);
    await reader.flush();
    expect(sent).toHaveLength(1);
    const m = sent[0] as Sent;
    expect(m.resource_metrics.version).toBe(1);
    expect(m.resource_metrics.scope_metrics.map((s) => s.scope)).toEqual([{ name: 'test-scope', version: '1.2.3' }]);
    expect(metric(m, 'items.processed')).toEqual({
      name: 'items.processed', description: 'Items processed.', unit: '{item}', kind: 'counter',
      points: [
        { attributes: { 'http.status': '200', kind: 'story', retried: 'false', tags: '["a","b"]' }, value: 3 },
        { attributes: { kind: 'bug' }, value: 1 },
      ],
    });
    expect(metric(m, 'step.duration')).toEqual({
      name: 'step.duration', description: 'Step duration.', unit: 's', kind: 'histogram',
      points: [{ attributes: { kind: 'story' }, count: 4, sum: expect.closeTo(21.25, 9) as number, buckets: { boundaries: [0.1, 1, 10], counts: [1, 2, 0, 1] } }],
    });
    expect(metric(m, 'queue.items')).toEqual({ name: 'queue.items', kind: 'gauge', points: [{ value: -2 }] });
    expect(metric(m, 'room.temperature')).toEqual({ name: 'room.temperature', description: 'Temperature.', kind: 'gauge', points: [{ attributes: { room: 'lab' }, value: 21.5 }] });
    expect(resourceMetricsSchema.safeParse(m.resource_metrics).success).toBe(true);
    expect(decodeAgentLine(lineOf(m))).toMatchObject({ ok: true, message: { type: 'metrics' } });
  });

  it('sends cumulative values: a later collection carries the totals so far', async () => {
    const { sent, reader, meter } = setup();
    const c = meter.createCounter('ticks');
    c.add(2);
    await reader.flush();
    c.add(3);
    await reader.flush();
    expect(sent.map((m) => metric(m, 'ticks')?.points[0])).toEqual([{ value: 2 }, { value: 5 }]);
  });

  it('sends nothing while no instrument has a value', async () => {
    const { sent, reader, meter } = setup();
    meter.createCounter('never.used');
    await reader.flush();
    expect(sent).toEqual([]);
  });

  it('leaves out exponential histograms and histograms with more than 64 boundaries, warning once each', async () => {
    const { sent, reader, meter, warnings } = setup({
      views: [{ instrumentName: 'expo', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
    });
    meter.createHistogram('expo').record(3);
    meter.createHistogram('wide', { advice: { explicitBucketBoundaries: Array.from({ length: 65 }, (_, i) => i) } }).record(3);
    meter.createCounter('kept').add(1);
    await reader.flush();
    await reader.flush();
    expect(sent.map((m) => m.resource_metrics.scope_metrics.flatMap((s) => s.metrics.map((x) => x.name)))).toEqual([['kept'], ['kept']]);
    expect(warnings()).toEqual([
      'metric expo is not sent to the supervisor: exponential histograms are not supported; use explicit buckets',
      'metric wide is not sent to the supervisor: more than 64 bucket boundaries',
    ]);
  });

  it('keeps the line within max_line_bytes: leaves out the series beyond the limit, counts them in dropped_series, warns once', async () => {
    const maxLineBytes = 4096;
    const { sent, reader, meter, warnings } = setup({ maxLineBytes });
    const c = meter.createCounter('requests', { description: 'Requests.' });
    for (let i = 0; i < 500; i++) c.add(1, { path: `/items/${i}`, method: 'GET' });
    await reader.flush();
    await reader.flush();
    expect(sent).toHaveLength(2);
    for (const m of sent) {
      expect(Buffer.byteLength(lineOf(m))).toBeLessThanOrEqual(maxLineBytes);
      const kept = metric(m, 'requests')?.points.length ?? 0;
      expect(kept).toBeGreaterThan(10);
      expect(m.resource_metrics.dropped_series).toBe(500 - kept);
      expect(decodeAgentLine(lineOf(m)).ok).toBe(true);
    }
    expect(warnings()).toEqual(['the metrics message would be longer than max_line_bytes: series beyond the limit are left out']);
  });

  it('truncates long attribute values and keeps at most 32 attributes per point, so the payload stays valid', async () => {
    const { sent, reader, meter } = setup();
    const attrs: Record<string, string> = { long: 'x'.repeat(5000) };
    for (let i = 0; i < 40; i++) attrs[`a${String(i).padStart(2, '0')}`] = 'v';
    meter.createCounter('wide.attrs').add(1, attrs);
    await reader.flush();
    const p = metric(sent[0], 'wide.attrs')?.points[0];
    expect(Object.keys(p?.attributes ?? {})).toHaveLength(32);
    expect(decodeAgentLine(lineOf(sent[0] as Sent)).ok).toBe(true);
  });

  it('collects every intervalMs and once more at shutdown, then stops', async () => {
    const { sent, provider, meter } = setup({ intervalMs: 40 });
    const c = meter.createCounter('beats');
    c.add(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(sent.length).toBeGreaterThanOrEqual(2);
    c.add(10);
    const before = sent.length;
    await provider.shutdown();
    expect(sent.length).toBe(before + 1);
    expect(metric(sent.at(-1), 'beats')?.points[0]).toEqual({ value: 11 });
    await new Promise((r) => setTimeout(r, 120));
    expect(sent.length).toBe(before + 1);
  });
});

describe('Node SDK metrics: the global meter provider', () => {
  const options = (sent: Sent[]) => ({ send: (m: Sent) => void sent.push(m), intervalMs: 3_600_000, maxLineBytes: 1 << 20, logger: createAgentLogger({ agent: 'a', agent_id: 'a', role: 'a' }, 'silent') });

  it('registers itself as the global meter provider, flushes and unregisters at shutdown', async () => {
    const sent: Sent[] = [];
    const shutdown = installMeterProvider(options(sent));
    expect(shutdown).toBeTypeOf('function');
    metrics.getMeter('app').createCounter('app.jobs').add(4);
    await shutdown?.();
    expect(metric(sent[0], 'app.jobs')?.points).toEqual([{ value: 4 }]);
    expect(metrics.getMeterProvider().constructor.name).toBe('NoopMeterProvider');
    await shutdown?.(); // idempotent
  });

  it('leaves an application\'s own global meter provider alone', async () => {
    const own = new MeterProvider();
    providers.push(own);
    expect(metrics.setGlobalMeterProvider(own)).toBe(true);
    const sent: Sent[] = [];
    expect(installMeterProvider(options(sent))).toBeUndefined();
    expect(metrics.getMeterProvider()).toBe(own);
  });
});
