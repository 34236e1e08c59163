/**
 * Never paying twice depends on a per_task run's `result` line being in the central
 * log store's file before the supervisor can die: a SIGKILLed supervisor loses what it
 * still holds in memory, but bytes it handed to the kernel stay (the page cache
 * survives the process). With the real LogStore this bench measures:
 * - write latency: from `agentLine()` of one stdout line to its last byte being in the
 *   file (stat size), p50/p99/max over `lines` lines written one at a time, first on an
 *   idle store, then while another agent's stream floods the store (1,000 lines of
 *   200 bytes per event-loop turn);
 * - read cost: `readTaskStdout` (what the next supervisor does at start, for each task
 *   a dead supervisor left in progress) for one task in an agent's log of `mb` MB
 *   holding the stream-json of 50 tasks, rotated files included.
 *
 *   npx tsx bench/stored-output.ts [lines=2000] [mb=10]
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { LogStore } from '../src/telemetry/LogStore.js';
import { listLogFiles } from '../src/telemetry/logFiles.js';
import { readTaskStdout } from '../src/telemetry/taskOutput.js';

const LINES = Number(process.argv[2] ?? 2000);
const MB = Number(process.argv[3] ?? 10);
const RECORDED = readFileSync(path.resolve(import.meta.dirname, '../test/fixtures/claude-stream-json/success.ndjson'), 'utf8').split('\n').filter(Boolean);
const RESULT = RECORDED.at(-1) as string;
const cfg = { level: 'info' as const, max_file_size_mb: 50, max_files: 20, max_total_size_mb: 5000, max_age_days: 7 };
const turn = () => new Promise<void>((r) => setImmediate(r));
const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)] as number;
const fmt = (ms: number) => `${ms.toFixed(3)} ms`;

async function writeLatency(flood: boolean): Promise<number[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-stored-'));
  const store = new LogStore(dir, cfg, 2);
  const file = store.file('deva');
  let flooding = flood;
  const spam = 'x'.repeat(180);
  const floodLoop = (async () => {
    let i = 0;
    while (flooding) {
      for (let k = 0; k < 1000; k++) store.agentLine({ agent: 'spam', role: 'spam' }, 'stdout', `${i++} ${spam}`);
      await turn();
    }
  })();
  const out: number[] = [];
  let size = 0;
  for (let i = 0; i < LINES; i++) {
    const t0 = performance.now();
    store.agentLine({ agent: 'deva', role: 'deva', replica: '0', task_id: `STORY_${i}`, trace_id: 'f'.repeat(32) }, 'stdout', RESULT);
    for (;;) {
      await turn();
      let now = 0;
      try { now = statSync(file).size; } catch { /* not created yet */ }
      if (now > size) { size = now; break; }
    }
    out.push(performance.now() - t0);
  }
  flooding = false;
  await floodLoop;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return out.sort((a, b) => a - b);
}

async function readCost(): Promise<{ ms: number[]; bytes: number; files: number; found: number }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-stored-'));
  const store = new LogStore(dir, { ...cfg, max_file_size_mb: Math.max(1, MB / 4) }, 1);
  const perTask = RECORDED.reduce((n, l) => n + l.length + 200, 0);
  const tasks = 50;
  const rounds = Math.max(1, Math.round((MB * 1024 * 1024) / (perTask * tasks)));
  for (let r = 0; r < rounds; r++) {
    for (const line of RECORDED) {
      for (let t = 0; t < tasks; t++) store.agentLine({ agent: 'deva', role: 'deva', replica: '0', task_id: `STORY_${t}`, trace_id: 'f'.repeat(32) }, 'stdout', line);
      await turn();
    }
  }
  await store.close();
  const files = listLogFiles(dir, ['deva']);
  const bytes = files.reduce((n, f) => n + f.size, 0);
  const ms: number[] = [];
  let found = 0;
  for (let i = 0; i < 10; i++) {
    const t0 = performance.now();
    found = readTaskStdout(dir, 'deva', 'STORY_7', 0).length;
    ms.push(performance.now() - t0);
  }
  rmSync(dir, { recursive: true, force: true });
  return { ms: ms.sort((a, b) => a - b), bytes, files: files.length, found };
}

console.log(`load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}; ${LINES} result lines of ${RESULT.length} bytes`);
for (const flood of [false, true]) {
  const l = await writeLatency(flood);
  console.log(`write latency, ${flood ? 'another stream flooding' : 'idle store'}: p50 ${fmt(pct(l, 0.5))}, p99 ${fmt(pct(l, 0.99))}, max ${fmt(l.at(-1) as number)}`);
}
const r = await readCost();
console.log(`readTaskStdout over ${(r.bytes / 1024 / 1024).toFixed(1)} MB in ${r.files} files: ${r.found} lines of the task found, median ${fmt(pct(r.ms, 0.5))}, max ${fmt(r.ms.at(-1) as number)}`);
