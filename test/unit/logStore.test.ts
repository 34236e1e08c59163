import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureStdio } from '../../src/telemetry/captureStdio.js';
import { LogStore, MAX_BUFFERED_BYTES } from '../../src/telemetry/LogStore.js';
import { registerLogStoreMetrics } from '../../src/telemetry/metrics/logStoreMetrics.js';

const logging = (over: Partial<ConstructorParameters<typeof LogStore>[1]> = {}) => ({ level: 'info' as const, max_file_size_mb: 50, max_files: 5, max_total_size_mb: 500, max_age_days: 7, ...over });
const turn = () => new Promise<void>((r) => setImmediate(r));

/** The `seq` fields of every record in `name`'s files (rotated ones included), oldest file first. */
function seqs(dir: string, name: string): { files: string[]; seq: number[] } {
  const files = readdirSync(dir).filter((f) => f.startsWith(`${name}.`) && f.endsWith('.log'));
  const perFile = files.map((f) => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { seq: number }).seq));
  perFile.sort((a, b) => (a[0] ?? Infinity) - (b[0] ?? Infinity));
  return { files, seq: perFile.flat() };
}

describe('LogStore', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'logstore-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('writes each turn\'s lines as one chunk, in order', async () => {
    const store = new LogStore(dir, logging());
    const write = vi.spyOn(store.stream('a'), 'write');
    for (let i = 0; i < 5000; i++) {
      store.write('a', { seq: i, msg: `line ${i}` });
      if (i % 500 === 499) await turn();
    }
    await store.close();
    expect(seqs(dir, 'a').seq).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    // 5,000 lines of about 30 bytes in 10 turns: a handful of chunks, not one write per line
    expect(write.mock.calls.length).toBeLessThanOrEqual(20);
    expect(store.counts().get('a')).toEqual({ written: 5000, dropped: 0 });
    expect(store.linesWritten).toBe(5000);
  });

  it('drops lines past the buffer cap, counts them per stream, and keeps the others in order', async () => {
    const store = new LogStore(dir, logging());
    const pad = 'x'.repeat(1000);
    const n = Math.ceil((MAX_BUFFERED_BYTES * 1.5) / 1024);
    for (let i = 0; i < n; i++) store.write('flood', { seq: i, pad }); // one turn: nothing reaches the disk meanwhile
    store.write('quiet', { seq: 0 });
    await store.close();
    const { written, dropped } = store.counts().get('flood')!;
    expect(dropped).toBeGreaterThan(0);
    expect(written + dropped).toBe(n);
    // what was kept is the cap, within a line
    const bytesOf = (count: number) => Array.from({ length: count }, (_, i) => JSON.stringify({ seq: i, pad }).length + 1).reduce((a, b) => a + b, 0);
    expect(bytesOf(written - 1)).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);
    expect(bytesOf(written + 1)).toBeGreaterThan(MAX_BUFFERED_BYTES);
    // the lines kept are the first ones, in order; the drops are the tail
    expect(seqs(dir, 'flood').seq).toEqual(Array.from({ length: written }, (_, i) => i));
    expect(store.counts().get('quiet')).toEqual({ written: 1, dropped: 0 });
    expect(store.dropped).toBe(dropped);
  });

  it('writes what is queued on close, and counts lines written after it as dropped', async () => {
    const store = new LogStore(dir, logging());
    for (let i = 0; i < 3; i++) store.write('a', { seq: i });
    await store.close(); // no turn passed: the lines were still queued
    expect(seqs(dir, 'a').seq).toEqual([0, 1, 2]);
    store.write('a', { seq: 3 });
    store.write('b', { seq: 0 });
    expect(store.counts().get('a')).toEqual({ written: 3, dropped: 1 });
    expect(store.counts().get('b')).toEqual({ written: 0, dropped: 1 });
    expect(readdirSync(dir).filter((f) => f.startsWith('b.'))).toEqual([]);
  });

  it('keeps rotation bounds: file size, file count and total size, with lines in order across files', async () => {
    // 0.05 MB files (51 KiB, chunks of at most 6.4 KiB), 3 rotated files, 0.2 MB for the stream
    const store = new LogStore(dir, logging({ max_file_size_mb: 0.05, max_files: 3, max_total_size_mb: 0.2 }));
    const pad = 'y'.repeat(150);
    const n = 4000; // about 700 KB: a dozen rotations
    let peak = 0;
    // A file rotated away between readdir and stat counts as gone (retention runs while we measure).
    const dirBytes = () => readdirSync(dir).reduce((sum, f) => sum + (statSync(path.join(dir, f), { throwIfNoEntry: false })?.size ?? 0), 0);
    for (let i = 0; i < n; i++) {
      store.write('r', { seq: i, pad });
      if (i % 100 === 99) {
        await new Promise((r) => setTimeout(r, 2));
        peak = Math.max(peak, dirBytes());
      }
    }
    await store.close();
    const { files, seq } = seqs(dir, 'r');
    expect(files.length).toBeGreaterThan(1);
    expect(files.length).toBeLessThanOrEqual(1 + 3);
    const fileLimit = 51 * 1024;
    for (const f of files) expect(statSync(path.join(dir, f)).size).toBeLessThan(fileLimit + fileLimit / 8 + 200);
    expect(peak).toBeLessThanOrEqual(0.2 * 1024 * 1024 + fileLimit * (1 + 1 / 8) + 1024);
    // the oldest files were deleted: what is left is a run of the last lines, in order
    expect(seq.at(-1)).toBe(n - 1);
    expect(seq).toEqual(Array.from({ length: seq.length }, (_, i) => n - seq.length + i));
    expect(store.counts().get('r')).toEqual({ written: n, dropped: 0 });
  });

  it('redacts secrets and enriches agent lines', async () => {
    const store = new LogStore(dir, logging());
    const ctx = { agent: 'qaa', role: 'qa', replica: '0', task_id: 't1', trace_id: 'tr1', secrets: ['sk-verysecret'] };
    store.agentLine(ctx, 'stdout', 'token sk-verysecret here');
    store.agentLine(ctx, 'stderr', '{"level":"error","msg":"key=sk-verysecret"}');
    await store.close();
    const text = readFileSync(store.file('qaa'), 'utf8');
    expect(text).not.toContain('sk-verysecret');
    const recs = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs).toMatchObject([
      { level: 30, msg: 'token [REDACTED] here', agent: 'qaa', role: 'qa', replica: '0', stream: 'stdout', task_id: 't1', trace_id: 'tr1' },
      { level: 50, msg: 'key=[REDACTED]', agent: 'qaa', stream: 'stderr' },
    ]);
  });

  it('exports written and dropped lines per agent, from 0 for every configured agent', async () => {
    const store = new LogStore(dir, logging());
    const register = new Registry();
    registerLogStoreMetrics(register, store, ['a', 'idle']);
    store.stream('supervisor'); // the supervisor's own stream is not an agent
    store.write('a', { seq: 0 });
    store.write('a', { seq: 1 });
    await store.close();
    store.write('a', { seq: 2 });
    const text = await register.metrics();
    expect(text).toContain('# TYPE agentic_log_lines_dropped_total counter');
    expect(text).toContain('agentic_log_lines_written_total{agent="a"} 2');
    expect(text).toContain('agentic_log_lines_dropped_total{agent="a"} 1');
    expect(text).toContain('agentic_log_lines_written_total{agent="idle"} 0');
    expect(text).toContain('agentic_log_lines_dropped_total{agent="idle"} 0');
    expect(text).not.toContain('supervisor');
  });

  describe('when the disk refuses a write', () => {
    const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const lines = (name: string) => readFileSync(path.join(dir, `${name}.log`), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { seq: number });

    it('drops and counts every line while the stream is broken (nothing kept in memory), tells once, and resumes on reopen', async () => {
      const errors: [string, string][] = [];
      const store = new LogStore(dir, logging(), 1, { onWriteError: (err, name) => errors.push([name, (err as { code: string }).code]) });
      store.write('a', { seq: 0 });
      await new Promise((r) => setTimeout(r, 50));
      store.stream('a').destroy(enospc()); // what rotating-file-stream does when its file write fails
      await vi.waitFor(() => expect(errors).toEqual([['a', 'ENOSPC']])); // its error comes once its file is closed
      expect(store.failing).toBe(true);
      const pad = 'z'.repeat(1000);
      for (let i = 1; i <= 20_000; i++) store.write('a', { seq: i, pad }); // 20 MB: more than the buffer cap
      await turn();
      expect(store.counts().get('a')).toEqual({ written: 1, dropped: 20_000 });
      expect(errors).toHaveLength(1);
      expect(store.reopen()).toBe(1);
      expect(store.failing).toBe(false);
      store.write('a', { seq: 20_001 });
      await store.close();
      expect(lines('a').map((r) => r.seq)).toEqual([0, 20_001]);
      expect(store.counts().get('a')).toEqual({ written: 2, dropped: 20_000 });
    });

    it('tries the file again by itself after retryMs', async () => {
      let now = 1_000_000;
      const store = new LogStore(dir, logging(), 1, { retryMs: 5000, now: () => now });
      store.stream('b').destroy(enospc());
      await turn();
      store.write('b', { seq: 1 });
      now += 4999;
      store.write('b', { seq: 2 });
      now += 1;
      store.write('b', { seq: 3 });
      await store.close();
      expect(lines('b').map((r) => r.seq)).toEqual([3]);
      expect(store.counts().get('b')).toEqual({ written: 1, dropped: 2 });
    });

    it('gives a logger a sink that never throws, with the supervisor\'s lines counted like an agent\'s', async () => {
      const store = new LogStore(dir, logging());
      const sink = store.sink('supervisor');
      expect(sink.write('{"level":30,"msg":"one"}\n')).toBe(true);
      store.stream('supervisor').destroy(enospc());
      await turn();
      expect(() => sink.write('{"level":30,"msg":"two"}\n')).not.toThrow();
      await store.close();
      expect(store.counts().get('supervisor')).toEqual({ written: 0, dropped: 2 }); // "one" was queued with the stream that broke
    });
  });

  it('captures what the process writes to stdout and stderr into a stream, line by line, until restored', async () => {
    const store = new LogStore(dir, logging());
    const restore = captureStdio(store, 'daemon', () => 42);
    let cb = false;
    try {
      process.stdout.write('first line\nsecond ');
      process.stdout.write('half\n', () => { cb = true; });
      process.stderr.write(Buffer.from('a warning\n'));
      process.stdout.write('no newline yet');
    } finally {
      restore();
    }
    await turn();
    await store.close();
    const recs = readFileSync(store.file('daemon'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(recs).toEqual([
      { level: 30, time: 42, component: 'daemon', stream: 'stdout', msg: 'first line' },
      { level: 30, time: 42, component: 'daemon', stream: 'stdout', msg: 'second half' },
      { level: 40, time: 42, component: 'daemon', stream: 'stderr', msg: 'a warning' },
      { level: 30, time: 42, component: 'daemon', stream: 'stdout', msg: 'no newline yet' },
    ]);
    expect(cb).toBe(true);
  });
});
