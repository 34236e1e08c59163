/**
 * stdout parsing overhead of a per_task claude run, per MB of stream-json. The bytes
 * are a realistic stream: the recorded runs of test/fixtures/claude-stream-json
 * (success, error, garbage) repeated to about 64 MB, fed in 64 KiB chunks as a pipe
 * delivers them. Each mode processes the same chunks:
 *
 *   split     the floor: find the newlines (Buffer.indexOf), no strings
 *   decode    the supervisor's LineDecoder: lines as UTF-8 strings
 *   parse     decode + JSON.parse of each line (what any JSON reader pays)
 *   adapter   LineDecoder + the claude-stream-json adapter (JSON.parse, turns, usage, summaries)
 *   +log      adapter + the log store's record for each line (LogStore.agentLine into a temp dir)
 *
 * MB/s is per CPU second (process.cpuUsage, user + system: the machine may be shared,
 * and wall time would count other processes' turns; the load average is printed),
 * the median of the runs; the ratio is against `split` and against `decode`. Then one
 * 16 MiB `result` line, the longest thing a run prints: the CPU time of each stage
 * (the decode of the chunk that ends it, the adapter, the log record, which the log
 * store builds on a later event-loop turn), median of the runs.
 *
 *   npx tsx bench/stream-json-parse.ts [megabytes=64] [runs=5]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { LineDecoder } from '../src/protocol/LineDecoder.js';
import { createClaudeStreamJsonAdapter } from '../src/supervisor/adapters/claudeStreamJson.js';
import { agentRecord } from '../src/telemetry/agentRecord.js';
import { LogStore } from '../src/telemetry/LogStore.js';

const MB = Number(process.argv[2] ?? 64);
const RUNS = Number(process.argv[3] ?? 5);
const CHUNK = 64 * 1024;
const FIXTURES = path.resolve(import.meta.dirname, '../test/fixtures/claude-stream-json');

function streamBytes(targetBytes: number): Buffer {
  const one = Buffer.concat(['success.ndjson', 'error-result.ndjson', 'garbage.ndjson'].map((f) => {
    const text = readFileSync(path.join(FIXTURES, f));
    return text.at(-1) === 0x0a ? text : Buffer.concat([text, Buffer.from('\n')]);
  }));
  const copies = Math.ceil(targetBytes / one.length);
  return Buffer.concat(Array.from({ length: copies }, () => one));
}

function chunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += CHUNK) out.push(buf.subarray(i, i + CHUNK));
  return out;
}

type Mode = 'split' | 'decode' | 'parse' | 'adapter' | '+log';
const MODES: Mode[] = ['split', 'decode', 'parse', 'adapter', '+log'];

/** A sink for one mode: push(chunk), and close() for the log store. */
function sink(mode: Mode, logDir: string): { push(c: Buffer): void; close(): Promise<void> } {
  if (mode === 'split') {
    let lines = 0;
    return {
      push(c) { for (let i = c.indexOf(0x0a); i !== -1; i = c.indexOf(0x0a, i + 1)) lines++; },
      close: async () => { if (lines < 0) throw new Error('unreachable'); },
    };
  }
  const adapter = createClaudeStreamJsonAdapter();
  const store = mode === '+log' ? new LogStore(logDir, { level: 'info', max_file_size_mb: 64, max_files: 2, max_total_size_mb: 256, max_age_days: 1 }) : undefined;
  let events = 0;
  const onLine = (line: string) => {
    if (mode === 'decode') { events += line.length > 0 ? 1 : 0; return; }
    if (mode === 'parse') {
      try { events += JSON.parse(line) === null ? 0 : 1; } catch { events += 0; }
      return;
    }
    events += adapter.onLine(line).length;
    store?.agentLine({ agent: 'bench', role: 'bench', replica: '0', task_id: 'T1' }, 'stdout', line);
  };
  const dec = new LineDecoder(onLine, 256 * 1024 * 1024);
  return { push: (c) => dec.push(c), close: async () => { dec.end(); await store?.close(); if (events < 0) throw new Error('unreachable'); } };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function throughput(parts: Buffer[], bytes: number): Promise<Map<Mode, number>> {
  const seconds = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  for (let run = 0; run < RUNS + 1; run++) {
    for (const mode of MODES) {
      const dir = mkdtempSync(path.join(tmpdir(), 'bench-sj-'));
      const s = sink(mode, dir);
      const ms = cpuMs(() => { for (const c of parts) s.push(c); });
      await s.close(); // the log store's disk writes are not parsing: outside the timing
      rmSync(dir, { recursive: true, force: true });
      if (run > 0) seconds.get(mode)?.push(ms / 1000); // run 0 warms up
    }
  }
  return new Map(MODES.map((m) => [m, bytes / 1e6 / median(seconds.get(m) ?? [])]));
}

/** CPU milliseconds of each stage for one 16 MiB result line, median of the runs. */
function bigResult(): { decode: number; adapter: number; log: number } {
  const success = readFileSync(path.join(FIXTURES, 'success.ndjson'), 'utf8').trim().split('\n').at(-1) as string;
  const bytes = Buffer.from(`${JSON.stringify({ ...JSON.parse(success), result: 'x'.repeat(16 * 1024 * 1024) })}\n`);
  const parts = chunks(bytes);
  const last = parts.pop() as Buffer;
  const runs = { decode: [] as number[], adapter: [] as number[], log: [] as number[] };
  for (let run = 0; run < RUNS + 1; run++) {
    let line = '';
    const dec = new LineDecoder((l) => { line = l; }, 256 * 1024 * 1024);
    for (const c of parts) dec.push(c);
    const decode = cpuMs(() => dec.push(last)); // the chunk that ends the line: join + UTF-8 decode
    const adapter = cpuMs(() => createClaudeStreamJsonAdapter().onLine(line));
    const log = cpuMs(() => agentRecord({ agent: 'bench', role: 'bench', replica: '0' }, 'stdout', line));
    if (run > 0) { runs.decode.push(decode); runs.adapter.push(adapter); runs.log.push(log); }
  }
  return { decode: median(runs.decode), adapter: median(runs.adapter), log: median(runs.log) };
}

function cpuMs(f: () => unknown): number {
  const c0 = process.cpuUsage();
  f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

const stream = streamBytes(MB * 1e6);
const parts = chunks(stream);
console.log(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`stream: ${(stream.length / 1e6).toFixed(1)} MB of recorded claude stream-json (${stream.toString('latin1').split('\n').length - 1} lines, mean ${(stream.length / (stream.toString('latin1').split('\n').length - 1)).toFixed(0)} bytes), ${parts.length} chunks of 64 KiB, ${RUNS} runs + 1 warm-up`);
const rates = await throughput(parts, stream.length);
const split = rates.get('split') as number;
const decode = rates.get('decode') as number;
console.log('mode      MB/s (CPU)   CPU ms per MB   × split   × decode');
for (const [mode, r] of rates) console.log(`${mode.padEnd(8)} ${r.toFixed(0).padStart(10)}   ${(1000 / r).toFixed(3).padStart(13)}   ${(split / r).toFixed(1).padStart(7)}   ${(decode / r).toFixed(2).padStart(8)}`);
const big = bigResult();
console.log(`one 16 MiB result line, CPU ms: decode ${big.decode.toFixed(1)}, adapter ${big.adapter.toFixed(1)}, log record ${big.log.toFixed(1)} (a later turn); longest block decode + adapter ${(big.decode + big.adapter).toFixed(1)} ms`);
