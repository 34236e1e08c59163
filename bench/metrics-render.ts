/**
 * /metrics render time: the supervisor's registry with 10, 100 and 1,000 simulated
 * agents (one replica each, ten agents per role, every series present: running
 * with a task, sampled, health pushed, a ping observed, a task finished per agent),
 * rendered in both formats. Prints the median and p95 wall time of N renders, the
 * CPU time per render (the whole process, and the main thread alone with the time
 * it waited for a CPU: the machine may be shared), the scrape size, the series
 * count and the longest event-loop block (perf_hooks monitorEventLoopDelay).
 *
 * When @opentelemetry/exporter-prometheus is installed (a devDependency), the same
 * series set is also rendered through it (observable gauges and counters,
 * histograms recorded), the ratios printed, and the two series sets compared
 * family by family (the bench exits 1 if they differ).
 *
 *   npx tsx bench/metrics-render.ts [runs=30]
 *   SIZES=1000 npx tsx bench/metrics-render.ts 50    # one size only
 */
import { EventEmitter } from 'node:events';
import { cpus, loadavg, tmpdir } from 'node:os';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { agentSchema } from '../src/config/schema.js';
import type { ProcessHandle } from '../src/supervisor/AgentProcess.js';
import type { SupervisorEvents } from '../src/supervisor/Supervisor.js';
import type { ExpositionFormat } from '../src/telemetry/metrics/exposition.js';
import { MetricsRegistry } from '../src/telemetry/metrics/MetricsRegistry.js';
import { parseExposition, type Parsed } from '../src/telemetry/metrics/parseExposition.js';
import type { ReplicaView, SupervisorView } from '../src/telemetry/metrics/source.js';

const RUNS = Number(process.argv[2] ?? 30);
const SIZES = (process.env.SIZES ?? '10,100,1000').split(',').map(Number);
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

interface Figures { medianMs: number; p95Ms: number; cpuMs: number; mainCpuMs: number; waitMs: number; maxBlockMs: number; maxTurnCpuMs: number; bytes: number; series: number; text: string }

/**
 * The main thread's time on a CPU and waiting for one, in ns (Linux schedstat), or
 * undefined elsewhere. process.cpuUsage() also counts V8's GC helper threads and
 * libuv's pool, so it can exceed the wall time on two cores; the main thread's
 * figure is the render's own work, and its run-queue wait is what a shared
 * machine adds to the wall time.
 */
function mainThread(): { cpuNs: number; waitNs: number } | undefined {
  try {
    const [cpu = 0, wait = 0] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ').map(Number);
    return { cpuNs: cpu, waitNs: wait };
  } catch {
    return undefined;
  }
}

/**
 * The most CPU the main thread spent between two turns of a 1 ms timer chain: the
 * longest block the code itself caused, whereas a wall-clock block on a shared
 * machine also counts the time the OS ran something else. (A timer, not a
 * setImmediate chain, which would spin while a render waits for I/O.)
 */
function turnMonitor(): () => number {
  let running = true;
  let max = 0;
  let last = mainThread()?.cpuNs;
  const tick = () => {
    const now = mainThread()?.cpuNs;
    if (now !== undefined && last !== undefined) max = Math.max(max, now - last);
    last = now;
    if (running) setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  return () => {
    running = false;
    return last === undefined ? NaN : max / 1e6;
  };
}

async function measure(render: () => Promise<string>): Promise<Figures> {
  for (let i = 0; i < 10; i++) await render(); // warm-up
  const times: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const turns = turnMonitor();
  let text = '';
  const cpu0 = process.cpuUsage();
  const main0 = mainThread();
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    text = await render();
    times.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 2)); // a timers phase between renders: the monitors see each render's blocks on their own
  }
  const cpu = process.cpuUsage(cpu0);
  const main1 = mainThread();
  const maxTurnCpuMs = turns();
  loop.disable();
  times.sort((a, b) => a - b);
  const pick = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? NaN;
  const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  const perRender = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? NaN : (b - a) / 1e6 / RUNS);
  return { medianMs: pick(0.5), p95Ms: pick(0.95), cpuMs: (cpu.user + cpu.system) / 1000 / RUNS, mainCpuMs: perRender(main0?.cpuNs, main1?.cpuNs), waitMs: perRender(main0?.waitNs, main1?.waitNs), maxBlockMs: loop.max / 1e6, maxTurnCpuMs, bytes: Buffer.byteLength(text), series, text };
}

/**
 * The same families and series through the OTel SDK and its Prometheus exporter, or
 * undefined when it is not installed. The exporter is configured to render the same
 * series set as ours: no `target_info` family and no `otel_scope_*` labels on every
 * series (its defaults), and a cardinality limit above the largest family (the SDK's
 * default of 2,000 attribute sets per instrument would merge the 1,000-agent
 * families into `otel_metric_overflow` series). The render is what its HTTP handler
 * runs: `collect()`, then `PrometheusSerializer.serialize`.
 */
async function otelRenderer(parsed: Parsed): Promise<(() => Promise<string>) | undefined> {
  const exporterModule = '@opentelemetry/exporter-prometheus';
  let exp: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- optional module: the bench must compile and run without it
  let sdk: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  try {
    exp = await import(exporterModule);
    sdk = await import('@opentelemetry/sdk-metrics');
  } catch {
    return undefined;
  }
  const largest = Math.max(0, ...[...perFamily(parsed).values()]);
  const exporter = new exp.PrometheusExporter({ preventServerStart: true, withoutScopeInfo: true, withoutTargetInfo: true });
  const meter = new sdk.MeterProvider({ readers: [exporter], views: [{ instrumentName: '*', aggregationCardinalityLimit: largest + 1 }] }).getMeter('bench');
  for (const [family, { type, help }] of parsed.families) {
    if (type === 'histogram') {
      const buckets = [...new Set(parsed.series(`${family}_bucket`).map((s) => s.labels.le).filter((le) => le !== '+Inf').map(Number))];
      const h = meter.createHistogram(family, { description: help, advice: { explicitBucketBoundaries: buckets } });
      for (const c of parsed.series(`${family}_count`)) {
        const sum = parsed.value(`${family}_sum`, c.labels) ?? 0;
        // The OTel SDK has no series for a histogram until its first observation (prom-client renders
        // an unlabelled one at 0): record one so the series set is the same. Only the values differ.
        for (let i = 0; i < Math.max(1, c.value); i++) h.record(c.value ? sum / c.value : 0, c.labels);
      }
      continue;
    }
    const samples = parsed.series(family);
    const cb = (r: { observe(v: number, a: Record<string, string>): void }) => { for (const s of samples) r.observe(s.value, s.labels); };
    if (type === 'counter') meter.createObservableCounter(family.replace(/_total$/, ''), { description: help }).addCallback(cb);
    else meter.createObservableGauge(family, { description: help }).addCallback(cb);
  }
  const serializer = new exp.PrometheusSerializer('', false, undefined, true, true);
  return async () => serializer.serialize((await exporter.collect()).resourceMetrics) as string;
}

/** Samples per family (a histogram's buckets, sum and count together). */
function perFamily(parsed: Parsed): Map<string, number> {
  const names = [...parsed.families.keys()].sort((a, b) => b.length - a.length); // longest first: `x_bucket` before `x`
  const counts = new Map<string, number>();
  for (const s of parsed.samples) {
    const f = names.find((n) => s.name === n || (s.name.startsWith(n) && /^_(bucket|sum|count|total)$/.test(s.name.slice(n.length)))) ?? s.name;
    counts.set(f, (counts.get(f) ?? 0) + 1);
  }
  return counts;
}

/** The families whose sample counts differ between two expositions, or [] when they render the same series set. */
function seriesDifferences(ours: Parsed, theirs: Parsed): string[] {
  const a = perFamily(ours);
  const b = perFamily(theirs);
  const out: string[] = [];
  for (const f of new Set([...a.keys(), ...b.keys()])) if (a.get(f) !== b.get(f)) out.push(`${f}: ours ${a.get(f) ?? 0}, otel ${b.get(f) ?? 0}`);
  return out;
}

const ms = (v: number) => v.toFixed(v < 10 ? 2 : 1).padStart(7);
const row = (cells: (string | number)[]) => console.log(cells.map((c, i) => String(c).padStart(i === 0 ? 7 : 12)).join(' '));

console.log(`/metrics render, ${RUNS} renders per figure, Node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
let otelAvailable = false;
const differences: string[] = [];
row(['agents', 'format', 'median ms', 'p95 ms', 'cpu ms', 'main cpu ms', 'cpu wait ms', 'max block ms', 'max turn cpu', 'bytes', 'series', 'otel/ours', 'main cpu o/o']);
for (const n of SIZES) {
  const { metrics } = simulate(n);
  const byFormat = new Map<ExpositionFormat, Figures>();
  for (const format of ['prometheus', 'openmetrics'] as const) byFormat.set(format, await measure(() => metrics.render(format)));
  const ours = parseExposition(await metrics.render('prometheus'), 'prometheus');
  const otel = await otelRenderer(ours);
  const o = otel ? await measure(otel) : undefined;
  otelAvailable ||= otel !== undefined;
  for (const [format, f] of byFormat) {
    const ratios = o && format === 'prometheus' ? [`${(o.medianMs / f.medianMs).toFixed(2)}x`, `${(o.mainCpuMs / f.mainCpuMs).toFixed(2)}x`] : [];
    row([n, format, ms(f.medianMs), ms(f.p95Ms), ms(f.cpuMs), ms(f.mainCpuMs), ms(f.waitMs), ms(f.maxBlockMs), ms(f.maxTurnCpuMs), f.bytes, f.series, ...ratios]);
  }
  if (o) {
    row([n, 'otel-prom', ms(o.medianMs), ms(o.p95Ms), ms(o.cpuMs), ms(o.mainCpuMs), ms(o.waitMs), ms(o.maxBlockMs), ms(o.maxTurnCpuMs), o.bytes, o.series]);
    differences.push(...seriesDifferences(ours, parseExposition(o.text, 'prometheus')).map((d) => `${n} agents: ${d}`));
  }
  metrics.close();
}
if (!otelAvailable) {
  console.log('\n@opentelemetry/exporter-prometheus is not installed: no OTel comparison (npm i -D @opentelemetry/exporter-prometheus@0.223 to add it).');
} else if (differences.length === 0) {
  console.log('\nThe OTel exporter rendered the same families with the same number of series as ours at every size.');
} else {
  console.log(`\nThe OTel exporter's series set differs from ours:\n  ${differences.join('\n  ')}`);
  process.exitCode = 1;
}
