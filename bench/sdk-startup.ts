/**
 * Node SDK start-up: how long an agent takes from spawn to its `hello` (what the
 * supervisor waits for), and to connect() resolved (welcome answered, the logger and
 * the SDK's meter provider loaded), beside a bare Node process that writes the same
 * hello by hand. Each round starts every mode once, in the same order (a load spike
 * hits all of them); the figures are medians, and "over bare" is mode − bare.
 * bench/fixtures/sdk-start.mjs is the agent; bench/sdk-overhead.ts measures the per-task path.
 *
 * BENCH_SDK_BEFORE=<path to another build's dist/sdk/index.js> adds that build (e.g. main's).
 *
 *   npm run build && npx tsx bench/sdk-startup.ts [rounds=20]
 *   BENCH_SDK_BEFORE=/tmp/cli-before/dist/sdk/index.js npx tsx bench/sdk-startup.ts 20
 */
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const ROUNDS = Number(process.argv[2] ?? 20);
const FIXTURE = path.resolve(import.meta.dirname, 'fixtures/sdk-start.mjs');
const modes: { name: string; env: NodeJS.ProcessEnv }[] = [
  { name: 'bare node', env: { BENCH_MODE: 'bare' } },
  { name: 'sdk', env: { BENCH_MODE: 'sdk' } },
];
if (process.env.BENCH_SDK_BEFORE) modes.push({ name: 'sdk (before)', env: { BENCH_MODE: 'sdk', BENCH_SDK: path.resolve(process.env.BENCH_SDK_BEFORE) } });

const WELCOME = `${JSON.stringify({ type: 'welcome', protocol: 1, agent: { name: 'bench', id: 'bench-0', role: 'bench', replica: 0 }, checkpoint: null, settings: { heartbeat_interval_ms: 5000, max_checkpoint_bytes: 262_144 } })}\n`;

/** One start: ms from spawn to the hello line, and to READY (connected). */
function start(env: NodeJS.ProcessEnv): Promise<{ hello: number; ready: number }> {
  const base: NodeJS.ProcessEnv = { ...process.env, ...env, AGENTIC_PROTOCOL_FD: '3', AGENTIC_AGENT_NAME: 'bench', LOG_LEVEL: 'info' };
  for (const k of Object.keys(base)) if (k.startsWith('OTEL_')) delete base[k];
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [FIXTURE], { env: base, stdio: ['ignore', 'ignore', 'pipe', 'pipe'] });
    const channel = child.stdio[3] as Socket;
    let hello = 0;
    let received = '';
    let stderr = '';
    channel.on('data', (d) => {
      received += d;
      if (!hello && received.includes('\n')) {
        hello = performance.now() - t0;
        channel.write(WELCOME);
      }
    });
    child.stderr!.on('data', (d) => {
      stderr += d;
      if (stderr.includes('READY\n')) {
        const ready = performance.now() - t0;
        channel.end();
        child.once('exit', () => resolve({ hello, ready }));
      }
    });
    channel.on('error', () => undefined);
    child.once('exit', (code) => { if (!stderr.includes('READY')) reject(new Error(`agent exited ${code}: ${stderr.slice(-1000)}`)); });
  });
}

const results = new Map(modes.map((m) => [m.name, { hello: [] as number[], ready: [] as number[] }]));
for (const m of modes) await start(m.env); // warm the page cache
for (let r = 0; r < ROUNDS; r++) {
  for (const m of modes) {
    const x = await start(m.env);
    results.get(m.name)!.hello.push(x.hello);
    results.get(m.name)!.ready.push(x.ready);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const bare = results.get('bare node')!;
console.log(`Node SDK start-up: ${ROUNDS} rounds (median), Node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const signed = (ms: number) => `${ms >= 0 ? '+' : '−'}${Math.abs(ms).toFixed(0)}`;
const pad = (cells: (string | number)[]) => console.log(cells.map((c, i) => String(c).padEnd(i === 0 ? 16 : 18)).join(''));
pad(['mode', 'spawn→hello ms', 'over bare ms', 'spawn→connected', 'over bare ms']);
for (const m of modes) {
  const x = results.get(m.name)!;
  const h = median(x.hello);
  const c = median(x.ready);
  pad([m.name, h.toFixed(0), m.name === 'bare node' ? '' : signed(h - median(bare.hello)), c.toFixed(0), m.name === 'bare node' ? '' : signed(c - median(bare.ready))]);
}
