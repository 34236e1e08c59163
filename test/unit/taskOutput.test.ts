import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../src/config/loadConfig.js';
import { storedResult } from '../../src/supervisor/recoverInProgress.js';
import { LogStore } from '../../src/telemetry/LogStore.js';
import { readTaskStdout } from '../../src/telemetry/taskOutput.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/claude-stream-json');
const recorded = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8').split('\n').filter(Boolean);
const logging = (over: Record<string, number> = {}) => ({ level: 'info' as const, max_file_size_mb: 50, max_files: 5, max_total_size_mb: 500, max_age_days: 7, ...over });
const claude = (stdout_adapter = 'claude-stream-json') => parseConfig({ background: { agents: [{ name: 'deva', mode: 'per_task', command: ['claude'], stdout_adapter }] } }).background.agents[0]!;
const ctx = (task: string) => ({ agent: 'deva', role: 'deva', replica: '0', task_id: task, trace_id: 'f'.repeat(32) });

describe('a per_task run\'s stored stdout, read back to find its result (never paying twice)', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'taskout-')); vi.useFakeTimers({ toFake: ['Date'], now: 1_000_000 }); });
  afterEach(() => { vi.useRealTimers(); rmSync(dir, { recursive: true, force: true }); });

  it('finds the result event of the task\'s last attempt in the log store, parsed by the claude-stream-json adapter', async () => {
    const store = new LogStore(dir, logging());
    for (const line of recorded('error-result.ndjson')) store.agentLine(ctx('STORY_1'), 'stdout', line); // attempt 1 failed
    vi.setSystemTime(2_000_000); // attempt 2 starts
    for (const line of recorded('garbage.ndjson')) store.agentLine(ctx('STORY_2'), 'stdout', line); // another task, interleaved
    for (const line of recorded('success.ndjson')) store.agentLine(ctx('STORY_1'), 'stdout', line);
    store.agentLine(ctx('STORY_1'), 'stderr', '{"type":"result","subtype":"success","is_error":false,"total_cost_usd":9}');
    await store.close();

    const lines = readTaskStdout(dir, 'deva', 'STORY_1', 2_000_000);
    expect(lines).toHaveLength(recorded('success.ndjson').length);
    const r = storedResult(claude(), lines);
    expect(r).toMatchObject({ kind: 'result', ok: true, num_turns: 4, total_cost_usd: 0.0874512 });
    expect(r?.result).toMatch(/validateCoupon/);
    // from the start of attempt 1, the last result is still attempt 2's
    expect(storedResult(claude(), readTaskStdout(dir, 'deva', 'STORY_1', 1_000_000))?.ok).toBe(true);
    // attempt 1 alone: the error result
    const first = storedResult(claude(), readTaskStdout(dir, 'deva', 'STORY_1', 1_000_000).slice(0, recorded('error-result.ndjson').length));
    expect(first).toMatchObject({ ok: false });
  });

  it('finds nothing for a run that printed no result yet, for an unknown task, or for an agent without a result-aware adapter', async () => {
    const store = new LogStore(dir, logging());
    for (const line of recorded('success.ndjson').slice(0, -1)) store.agentLine(ctx('STORY_3'), 'stdout', line);
    await store.close();
    expect(storedResult(claude(), readTaskStdout(dir, 'deva', 'STORY_3', 0))).toBeUndefined();
    expect(readTaskStdout(dir, 'deva', 'STORY_9', 0)).toEqual([]);
    expect(readTaskStdout(dir, 'nobody', 'STORY_3', 0)).toEqual([]);
    expect(storedResult(claude('none'), recorded('success.ndjson'))).toBeUndefined();
  });

  it('reads rotated files too, oldest first', async () => {
    const store = new LogStore(dir, logging({ max_file_size_mb: 0.01, max_files: 50 }));
    for (let i = 0; i < 400; i++) {
      store.agentLine(ctx('STORY_4'), 'stdout', JSON.stringify({ type: 'assistant', message: { id: `m${i}`, content: [{ type: 'text', text: `turn ${i} ${'x'.repeat(60)}` }] } }));
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    store.agentLine(ctx('STORY_4'), 'stdout', recorded('success.ndjson').at(-1)!);
    await store.close();
    expect(readdirSync(dir).filter((f) => f.startsWith('deva.')).length).toBeGreaterThan(1);
    const lines = readTaskStdout(dir, 'deva', 'STORY_4', 0);
    expect(lines).toHaveLength(401);
    expect(lines.slice(0, 400).map((l) => (JSON.parse(l) as { message: { id: string } }).message.id)).toEqual(Array.from({ length: 400 }, (_, i) => `m${i}`));
    expect(storedResult(claude(), lines)?.total_cost_usd).toBe(0.0874512);
  });
});
