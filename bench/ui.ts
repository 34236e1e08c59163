/**
 * The web dashboard against the demo (`npm start`'s examples/demo.mjs, five agents,
 * a story a second): page weight (gzipped, what the browser downloads), time to
 * first render (navigation to the first fleet row, chromium headless, a fresh login
 * each time), and the supervisor's CPU while 0, 1 and 10 pages follow it live
 * (server-sent events), from /proc/<pid>/stat over a fixed window each; then what one
 * read of a task's logs (GET /api/v1/tasks/:id/logs, the task page reads it every 3 s
 * while the task is pending or running) costs against the demo's log store by then.
 *
 *   npm run build && npx tsx bench/ui.ts [renders=5] [window_s=20]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type BrowserContext } from 'playwright-core';
import { loadUiAssets } from '../src/server/ui/uiAssets.js';

const RENDERS = Number(process.argv[2] ?? 5);
const WINDOW_S = Number(process.argv[3] ?? 20);
const root = path.resolve(import.meta.dirname, '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'bench-ui-'));
const stateDir = path.join(tmp, 'state');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const TICK = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / TICK;
}

let weight = 0;
for (const [name, a] of loadUiAssets()) {
  const gz = gzipSync(a.body, { level: 9 }).length;
  weight += gz;
  console.log(`asset ${name}: ${a.body.length} B raw, ${gz} B gzipped`);
}
console.log(`page weight: ${(weight / 1024).toFixed(1)} KB gzipped (budget 100 KB)`);

const demo = spawn(process.execPath, [path.join(root, 'examples/demo.mjs'), '--port', '0'], { cwd: root, detached: true, env: { ...process.env, DEMO_STATE_DIR: stateDir, DEMO_SUBMIT_EVERY_MS: '1000', NO_COLOR: '1' }, stdio: 'ignore' });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
try {
  let ep: { url: string; pid: number } | undefined;
  for (let i = 0; i < 300 && !ep; i++) {
    try { ep = JSON.parse(readFileSync(path.join(stateDir, 'endpoint.json'), 'utf8')); } catch { await sleep(100); }
  }
  if (!ep) throw new Error('the demo did not start');
  const token = readFileSync(path.join(stateDir, 'api.token'), 'utf8').trim();
  const link = async () => `${ep!.url}${((await (await fetch(`${ep!.url}/api/v1/ui/codes`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).json()) as { path: string }).path}`;
  await sleep(5000); // the agents connect

  const renders: number[] = [];
  for (let i = 0; i < RENDERS; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const url = await link();
    const t0 = performance.now();
    await page.goto(url);
    await page.locator('tr[data-replica]').first().waitFor({ timeout: 30_000 });
    renders.push(performance.now() - t0);
    await ctx.close();
  }
  console.log(`time to first render (navigation → first fleet row), ms: median ${median(renders).toFixed(0)}, all ${renders.map((r) => r.toFixed(0)).join(', ')}`);

  const measure = async (pages: number) => {
    // One context (cookie jar and connection pool) per page, like ten people: a browser keeps at
    // most 6 HTTP/1.1 connections per origin, so one profile's 7th live tab would wait for a socket.
    const open: BrowserContext[] = [];
    for (let i = 0; i < pages; i++) {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      await p.goto(await link());
      await p.locator('tr[data-replica]').first().waitFor({ timeout: 30_000 });
      open.push(ctx);
    }
    await sleep(2000);
    const c0 = cpuSeconds(ep!.pid);
    const t0 = performance.now();
    await sleep(WINDOW_S * 1000);
    const pct = ((cpuSeconds(ep!.pid) - c0) / ((performance.now() - t0) / 1000)) * 100;
    for (const c of open) await c.close();
    return pct;
  };
  const results: [number, number][] = [];
  for (const n of [0, 1, 10]) results.push([n, await measure(n)]);
  for (const [n, pct] of results) console.log(`supervisor CPU with ${n} live page(s): ${pct.toFixed(1)}% of one core (over ${WINDOW_S} s)`);

  const api = async <T>(p: string) => (await (await fetch(`${ep!.url}${p}`, { headers: { authorization: `Bearer ${token}` } })).json()) as T;
  const done = (await api<{ tasks: { id: string }[] }>('/api/v1/tasks?status=completed&limit=1')).tasks[0];
  if (done) {
    const logDir = path.join(stateDir, 'logs');
    const bytes = readdirSync(logDir).reduce((n, f) => n + statSync(path.join(logDir, f)).size, 0);
    const reads: number[] = [];
    let lines = 0;
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      lines = (await api<{ total: number }>(`/api/v1/tasks/${done.id}/logs`)).total;
      reads.push(performance.now() - t0);
    }
    console.log(`a task's logs (${lines} lines of ${done.id}) from a ${(bytes / 1e6).toFixed(1)} MB log store: median ${median(reads).toFixed(1)} ms per read (${reads.length} reads)`);
  }
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  await browser.close();
  try { process.kill(-(demo.pid as number), 'SIGTERM'); } catch { /* gone */ }
  await sleep(2000);
  try { process.kill(-(demo.pid as number), 'SIGKILL'); } catch { /* gone */ }
  rmSync(tmp, { recursive: true, force: true });
}
