/**
 * /metrics render time: the supervisor's registry with 10, 100 and 1,000 simulated
 * agents (one replica each, ten agents per role, every series present: running
 * with a task, sampled, health pushed, a ping observed, a task finished per agent),
 * rendered in both formats. Prints the median and p95 wall time of N renders, the
 * CPU time per render (the machine may be shared), the scrape size, the series
 * count and the longest event-loop block (perf_hooks monitorEventLoopDelay).
 *
 * When @opentelemetry/exporter-prometheus is installed (it is not a dependency:
 * `npm i -D @opentelemetry/exporter-prometheus@0.223` to enable), the same series
 * set is also rendered through it (observable gauges and counters, histograms
 * recorded) and the ratio printed.
 *
 *   npx tsx bench/metrics-render.ts [runs=30]
 */
import { EventEmitter } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { agentSchema } from '../src/config/schema.js';
import type { ProcessHandle } from '../src/supervisor/AgentProcess.js';
import type { SupervisorEvents } from '../src/supervisor/Supervisor.js';
import type { ExpositionFormat } from '../src/telemetry/metrics/exposition.js';
import { MetricsRegistry } from '../src/telemetry/metrics/MetricsRegistry.js';
import { parseExposition, type Parsed } from '../src/telemetry/metrics/parseExposition.js';
import type { ReplicaView, SupervisorView } from '../src/telemetry/metrics/source.js';

const RUNS = Number(process.argv[2] ?? 30);
const SIZES = [10, 100, 1000];
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

/** A supervisor-shaped object with `n` running service agents and everything they export. */
function simulate(n: number): { sup: SupervisorView; metrics: MetricsRegistry } {
  const now = Date.now();
  const replicas: ReplicaView[] = [];
  for (let i = 0; i < n; i++) {
    const config = agentSchema.parse({ name: `agent_${i}`, role: `role_${Math.floor(i / 10)}`, command: ['agent'] });
    replicas.push({
      slot: `agent_${i}-0`, index: 0, config, role: config.role ?? config.name, restarts: { crash: i % 3 },
      state: { kind: 'running', since: now, proc: { pid: 10_000 + i, startedAt: now - 60_000 } as unknown as ProcessHandle },
      sdk: 'agentic-node@0.1.0', lastHeartbeatAt: now, heapUsedBytes: 30_000_000 + i, lastPongRttMs: 2 + (i % 7),
      task: { id: `task_${i}`, correlationId: TRACE, assignedAt: now, lastProgressAt: now, progress: 0.5, message: null },
    });
  }
  const sample = { at: now, cpuPercent: 12.5, rssBytes: 150_000_000, processes: 3 };
  const sup = Object.assign(new EventEmitter<SupervisorEvents>(), {
    replicas, perTask: [], roles: [...new Set(replicas.map((r) => r.role))],
    sampler: { get: (pid: number | undefined) => (pid === undefined ? undefined : sample), lastRoundDurationMs: 8 },
    queue: { stats: () => ({ depth: new Map(replicas.map((r) => [r.role, new Map([['normal', 2]] as const)])), oldestPending: new Map(replicas.map((r) => [r.role, now - 5000])), inProgress: new Map(replicas.map((r) => [r.role, 10])), totalPending: 2 * n }) },
    policy: {},
  });
  const metrics = new MetricsRegistry({ sup, diskPaths: [tmpdir()] });
  for (const r of replicas) {
    sup.emit('message', { agent: r.config.name, slot: r.slot, message: { type: 'pong', id: 1 } });
    sup.emit('taskFinished', { task: {} as never, agent: r.config.name, role: r.role, outcome: 'completed', durationMs: 90_000, traceId: TRACE });
    metrics.setHealth(r.slot, 'resource_usage', 'degraded');
    metrics.setMemoryGrowth(r.slot, 1024);
  }
  return { sup, metrics };
}

interface Figures { medianMs: number; p95Ms: number; cpuMs: number; maxBlockMs: number; bytes: number; series: number }

async function measure(render: () => Promise<string>): Promise<Figures> {
  for (let i = 0; i < 10; i++) await render(); // warm-up
  const times: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let text = '';
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    text = await render();
    times.push(performance.now() - t0);
    await new Promise((r) => setImmediate(r)); // let the monitor see each block on its own
  }
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  times.sort((a, b) => a - b);
  const pick = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
  const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  return { medianMs: pick(0.5), p95Ms: pick(0.95), cpuMs: (cpu.user + cpu.system) / 1000 / RUNS, maxBlockMs: loop.max / 1e6, bytes: Buffer.byteLength(text), series };
}

/** The same families and series through the OTel SDK and its Prometheus exporter, or undefined when not installed. */
async function otelRenderer(parsed: Parsed): Promise<(() => Promise<string>) | undefined> {
  const exporterModule = '@opentelemetry/exporter-prometheus';
  let exp: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- optional module without installed types
  let sdk: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    exp = await import(exporterModule);
    sdk = await import('@opentelemetry/sdk-metrics');
  } catch {
    return undefined;
  }
  const exporter = new exp.PrometheusExporter({ preventServerStart: true });
  const meter = new sdk.MeterProvider({ readers: [exporter] }).getMeter('bench');
  for (const [family, { type, help }] of parsed.families) {
    if (type === 'histogram') {
      const buckets = [...new Set(parsed.series(`${family}_bucket`).map((s) => s.labels.le).filter((le) => le !== '+Inf').map(Number))];
      const h = meter.createHistogram(family, { description: help, advice: { explicitBucketBoundaries: buckets } });
      for (const c of parsed.series(`${family}_count`)) {
        const sum = parsed.value(`${family}_sum`, c.labels) ?? 0;
        for (let i = 0; i < c.value; i++) h.record(sum / c.value, c.labels);
      }
      continue;
    }
    const samples = parsed.series(family);
    const cb = (r: { observe(v: number, a: Record<string, string>): void }) => { for (const s of samples) r.observe(s.value, s.labels); };
    if (type === 'counter') meter.createObservableCounter(family.replace(/_total$/, ''), { description: help }).addCallback(cb);
    else meter.createObservableGauge(family, { description: help }).addCallback(cb);
  }
  const serializer = new exp.PrometheusSerializer();
  return async () => serializer.serialize((await exporter.collect()).resourceMetrics) as string;
}

const ms = (v: number) => v.toFixed(v < 10 ? 2 : 1).padStart(7);
const row = (cells: (string | number)[]) => console.log(cells.map((c, i) => String(c).padStart(i === 0 ? 7 : 12)).join(' '));

console.log(`/metrics render, ${RUNS} renders per figure, Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
let otelAvailable = false;
row(['agents', 'format', 'median ms', 'p95 ms', 'cpu ms', 'max block ms', 'bytes', 'series', 'otel/ours']);
for (const n of SIZES) {
  const { metrics } = simulate(n);
  const byFormat = new Map<ExpositionFormat, Figures>();
  for (const format of ['prometheus', 'openmetrics'] as const) byFormat.set(format, await measure(() => metrics.render(format)));
  const otel = await otelRenderer(parseExposition(await metrics.render('prometheus'), 'prometheus'));
  const o = otel ? await measure(otel) : undefined;
  otelAvailable ||= otel !== undefined;
  for (const [format, f] of byFormat) {
    const ratio = o && format === 'prometheus' ? `${(o.medianMs / f.medianMs).toFixed(2)}x` : '';
    row([n, format, ms(f.medianMs), ms(f.p95Ms), ms(f.cpuMs), ms(f.maxBlockMs), f.bytes, f.series, ratio]);
  }
  if (o) row([n, 'otel-prom', ms(o.medianMs), ms(o.p95Ms), ms(o.cpuMs), ms(o.maxBlockMs), o.bytes, o.series, '']);
  metrics.close();
}
if (!otelAvailable) {
  console.log('\n@opentelemetry/exporter-prometheus is not installed: no OTel comparison (npm i -D @opentelemetry/exporter-prometheus@0.223 to add it).');
}
