/**
 * Node SDK per-task overhead. Each run starts bench/fixtures/sdk-agent.mjs the way
 * the supervisor starts an agent (stdout a pipe, the protocol channel a socketpair
 * on fd 3, AGENTIC_PROTOCOL_FD=3), answers its hello with a welcome, sends it
 * warm-up + N `task.assign` messages with a W3C traceparent, and reads everything
 * back through the supervisor's own ProtocolChannel (zod-validated) while draining
 * its stdout. The agent times its task path from the first measured task's start
 * to the last one's end, in wall time and in CPU time (the machine may be shared),
 * and the bench compares each mode with a bare loop running the same handler.
 *
 * Modes (see the fixture): bare; inproc (the SDK's code path without I/O); raw (no
 * SDK, the same messages over the socket by hand, one write per task: the I/O floor); sdk with
 * LOG_LEVEL=warn; sdk (connect() defaults: no tracer provider, LOG_LEVEL=info, no
 * per-task log lines); sdk with LOG_LEVEL=debug (`task started` and `task finished`
 * on stdout); trace (in-memory span exporter, info); metrics (trace plus a
 * counter and a histogram recorded through @opentelemetry/api on the SDK's meter
 * provider). BENCH_WINDOW (default 1, as the supervisor assigns) tasks are in flight.
 *
 *   npm run build && npx tsx bench/sdk-overhead.ts [tasks=20000] [runs=3]
 *
 * Start-up (spawn → hello, spawn → connected, against bare node) is bench/sdk-startup.ts.
 *   BENCH_MODES=sdk BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' npx tsx bench/sdk-overhead.ts   # profile the agent
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import type { AgentMessage } from '../src/protocol/messages.js';
import { ProtocolChannel } from '../src/supervisor/ProtocolChannel.js';

const TASKS = Number(process.argv[2] ?? 20_000);
const RUNS = Number(process.argv[3] ?? 3);
const WARMUP = Math.min(5000, Math.ceil(TASKS / 4));
/** Tasks assigned and not yet finished at any time (the supervisor assigns one at a time per replica: 1). */
const WINDOW = Number(process.env.BENCH_WINDOW ?? 1);
/** BENCH_FIXTURE: another copy of the fixture (e.g. next to an older build's dist/, to compare builds). */
const FIXTURE = process.env.BENCH_FIXTURE ?? path.resolve(import.meta.dirname, 'fixtures/sdk-agent.mjs');
const ALL_MODES = ['bare', 'inproc', 'raw', 'sdk LOG_LEVEL=warn', 'sdk', 'sdk LOG_LEVEL=debug', 'trace', 'metrics'] as const;
type Mode = (typeof ALL_MODES)[number];
const MODES: readonly Mode[] = process.env.BENCH_MODES ? ALL_MODES.filter((m) => ['bare', ...process.env.BENCH_MODES!.split(',')].includes(m)) : ALL_MODES;

interface RunResult {
  wallMs: number;
  cpuMs: number;
  /** Protocol messages and stdout lines the bench received per measured+warm-up task. */
  messages: Map<string, number>;
  logLines: number;
  spans?: { exported: number; withParent: number } | undefined;
  protocolErrors: number;
}

async function run(mode: Mode): Promise<RunResult> {
  const traceId = randomBytes(16).toString('hex');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BENCH_MODE: mode.startsWith('sdk ') ? 'sdk' : mode,
    BENCH_TASKS: String(TASKS),
    BENCH_WARMUP: String(WARMUP),
    BENCH_TRACE_ID: traceId,
    LOG_LEVEL: mode === 'sdk LOG_LEVEL=warn' || mode === 'inproc' ? 'warn' : mode === 'sdk LOG_LEVEL=debug' ? 'debug' : 'info',
    AGENTIC_PROTOCOL_FD: '3',
    AGENTIC_AGENT_NAME: 'bench',
    AGENTIC_AGENT_ID: 'bench-0',
    AGENTIC_AGENT_ROLE: 'bench',
  };
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k]; // no OTLP export from the SDK itself
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []), FIXTURE], { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
  let logLines = 0;
  child.stdout!.on('data', (chunk: Buffer) => {
    for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) logLines++;
  });
  let stderr = '';
  const result = new Promise<{ wallMs: number; cpuMs: number; spans?: RunResult['spans'] }>((resolve, reject) => {
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /^RESULT (.*)$/m.exec(stderr);
      if (m) resolve(JSON.parse(m[1]!) as { wallMs: number; cpuMs: number });
    });
    child.once('exit', (code, signal) => reject(new Error(`${mode}: the agent exited (${code ?? signal}) without a result: ${stderr.slice(-2000)}`)));
  });
  const messages = new Map<string, number>();
  let protocolErrors = 0;
  const total = WARMUP + TASKS;
  let sent = 0;
  const assign = () => {
    const i = sent++;
    channel.send({ type: 'task.assign', task: { id: `t${i}`, role: 'bench', title: `task number ${i}`, payload: { i }, priority: 5, attempt: 1 }, correlation_id: `c${i}`, traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
  };
  const channel = new ProtocolChannel(child.stdio[3] as Socket, {
    onMessage: (m: AgentMessage) => {
      messages.set(m.type, (messages.get(m.type) ?? 0) + 1);
      if (m.type === 'hello') {
        channel.send({ type: 'welcome', protocol: 1, agent: { name: 'bench', id: 'bench-0', role: 'bench', replica: 0 }, checkpoint: null, settings: { heartbeat_interval_ms: 5000, max_checkpoint_bytes: 262_144 } });
        while (sent < Math.min(WINDOW, total)) assign();
      } else if (m.type === 'task.finished' && sent < total) {
        assign(); // keep WINDOW tasks assigned: the next one goes out as one finishes
      }
    },
    onError: () => { protocolErrors++; },
  }, 1024 * 1024);
  const killer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  try {
    const r = await result;
    if (mode !== 'bare' && mode !== 'inproc') {
      // every task's task.finished must have arrived before the agent is stopped
      const deadline = Date.now() + 30_000;
      while ((messages.get('task.finished') ?? 0) < total && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
      channel.send({ type: 'shutdown', deadline_ms: 2000, reason: 'bench done' });
    }
    await new Promise((res) => (child.exitCode !== null || child.signalCode !== null ? res(undefined) : child.once('exit', res)));
    return { ...r, messages, logLines, protocolErrors };
  } finally {
    clearTimeout(killer);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const us = (ms: number) => (ms * 1000) / TASKS;

console.log(`Node SDK per-task overhead: ${TASKS} tasks per run after ${WARMUP} warm-up tasks, ${RUNS} runs per mode (median shown), Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const results = new Map<Mode, RunResult[]>(MODES.map((m) => [m, []]));
for (let r = 0; r < RUNS; r++) {
  for (const mode of MODES) results.get(mode)!.push(await run(mode)); // modes interleaved, so a load spike hits all of them
}
const bare = results.get('bare')!;
const bareWall = median(bare.map((x) => us(x.wallMs)));
const bareCpu = median(bare.map((x) => us(x.cpuMs)));
const pad = (cells: (string | number)[]) => console.log(cells.map((c, i) => String(c).padEnd(i === 0 ? 21 : 16)).join(''));
pad(['mode', 'wall µs/task', 'CPU µs/task', 'overhead wall', 'overhead CPU', 'task msgs/task', 'log lines/task', 'metrics msgs', 'spans exported']);
let failed = false;
for (const mode of MODES) {
  const rs = results.get(mode)!;
  const wall = median(rs.map((x) => us(x.wallMs)));
  const cpu = median(rs.map((x) => us(x.cpuMs)));
  const last = rs[rs.length - 1]!;
  const total = WARMUP + TASKS;
  const msgs = [...last.messages].filter(([t]) => t.startsWith('task.')).reduce((s, [, n]) => s + n, 0) / total;
  const spans = last.spans ? `${last.spans.exported}/${total} (${last.spans.withParent} in trace)` : '';
  pad([mode, wall.toFixed(2), cpu.toFixed(2), mode === 'bare' ? '' : (wall - bareWall).toFixed(2), mode === 'bare' ? '' : (cpu - bareCpu).toFixed(2), mode === 'bare' || mode === 'inproc' ? '' : msgs.toFixed(2), mode === 'bare' || mode === 'inproc' ? '' : (last.logLines / total).toFixed(2), mode === 'bare' || mode === 'inproc' ? '' : String(last.messages.get('metrics') ?? 0), spans]);
  if (mode !== 'bare' && mode !== 'inproc' && ((last.messages.get('task.finished') ?? 0) !== total || (last.messages.get('task.progress') ?? 0) !== total || last.protocolErrors > 0)) {
    failed = true;
    console.log(`  ${mode}: expected ${total} task.finished and task.progress, got ${last.messages.get('task.finished') ?? 0} and ${last.messages.get('task.progress') ?? 0}; ${last.protocolErrors} protocol errors`);
  }
  console.log(`  runs: ${rs.map((x) => `${us(x.wallMs).toFixed(2)}/${us(x.cpuMs).toFixed(2)}`).join(', ')} (wall/CPU µs per task)`);
}
console.log(`\nTarget: under 20 µs of SDK overhead per task. Overhead = mode − bare (${bareWall.toFixed(2)} µs wall, ${bareCpu.toFixed(2)} µs CPU per task).`);
const raw = results.get('raw');
const sdk = results.get('sdk');
if (raw?.length && sdk?.length) {
  const delta = (f: (x: RunResult) => number) => (median(sdk.map((x) => us(f(x)))) - median(raw.map((x) => us(f(x))))).toFixed(2);
  console.log(`The SDK over the same protocol traffic written by hand (sdk − raw): ${delta((x) => x.wallMs)} µs wall, ${delta((x) => x.cpuMs)} µs CPU per task.`);
}
if (failed) process.exitCode = 1;
