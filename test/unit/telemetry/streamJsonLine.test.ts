import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { logsPane } from '../../../src/cli/monitor/panes.js';
import { tailAgentLog } from '../../../src/cli/monitor/logTail.js';
import { paint } from '../../../src/cli/monitor/ansi.js';
import { LogStore } from '../../../src/telemetry/LogStore.js';
import { formatRecord, type LogRecord } from '../../../src/telemetry/logFilter.js';
import { StreamJsonContext, isStreamJsonWarning, streamJsonLine } from '../../../src/telemetry/streamJsonLine.js';

const fixture = (name: string): string[] =>
  readFileSync(fileURLToPath(new URL(`../../fixtures/claude-stream-json/${name}`, import.meta.url)), 'utf8').split('\n').filter((l) => l !== '');
const render = (name: string): (string | undefined)[] => {
  const ctx = new StreamJsonContext();
  return fixture(name).map((l) => {
    try { return streamJsonLine(JSON.parse(l) as Record<string, unknown>, ctx); } catch { return undefined; }
  });
};

describe('streamJsonLine: one readable line per claude stream-json event', () => {
  it('renders the recorded success stream: session, text, tools relative to cwd, tool results, the result with turns, cost and time', () => {
    expect(render('success.ndjson')).toEqual([
      'session start: claude-sonnet-4-5-20250929, 9 tools, cwd /home/dev/shop',
      "I'll start by looking at how coupons are applied in the cart.",
      'tool: Read src/cart/coupon.ts',
      'tool result: 1 export function applyCoupon(cart: Cart, code: string) {',
      'rate limit: allowed (five_hour)',
      'tool: Edit src/cart/coupon.ts',
      'tool result: The file /home/dev/shop/src/cart/coupon.ts has been updated.',
      'tool: Bash npm test -- --run src/cart',
      'tool result: Test Files 6 passed (6)',
      'Added `validateCoupon()` in src/cart/coupon.ts and covered it with tests; all 48 tests pass.',
      'result: success, 4 turns, $0.0875, 48 s',
    ]);
  });

  it('renders an error result with its subtype and errors, and a failed tool as a tool error', () => {
    const lines = render('error-result.ndjson');
    expect(lines.at(-1)).toBe('result: error_during_execution, 2 turns, $0.0213, 22 s: Error: connect ECONNREFUSED 127.0.0.1:5432');
    expect(lines.some((l) => l?.startsWith('tool error: Error: connect ECONNREFUSED'))).toBe(true);
    const records = fixture('error-result.ndjson').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.filter(isStreamJsonWarning).map((r) => r.type)).toEqual(['user', 'result']);
  });

  it('shows the first line of assistant text only, cut at 160 characters, and tools without a cwd in full', () => {
    expect(streamJsonLine({ type: 'assistant', session_id: 's', message: { content: [{ type: 'text', text: `\n\n${'w'.repeat(300)}\nsecond` }] } })).toBe(`${'w'.repeat(159)}…`);
    expect(streamJsonLine({ type: 'assistant', session_id: 's', message: { content: [{ type: 'tool_use', name: 'Read', input: { file_path: '/abs/note.txt' } }] } })).toBe('tool: Read /abs/note.txt');
    expect(streamJsonLine({ type: 'result', subtype: 'success', is_error: false, num_turns: 1, total_cost_usd: 0.01, duration_ms: 900, oversized_bytes: 70 * 1024 * 1024, session_id: 's' }))
      .toBe('result: success, 1 turn, $0.0100, 1 s, line of 70.0 MiB cut');
  });

  it('leaves records that are not stream-json events alone', () => {
    expect(streamJsonLine({ msg: 'hello', level: 30 })).toBeUndefined();
    expect(streamJsonLine({ type: 'metrics', points: [] })).toBeUndefined();
  });

  it('formatRecord uses it for records without msg, and names a per_task slot like a replica', () => {
    const rec: LogRecord = { ...(JSON.parse(fixture('success.ndjson').at(-1)!) as object), time: Date.UTC(2026, 0, 1, 10, 42, 7, 123), level: 30, agent: 'deva_ts', role: 'deva_ts', replica: '0', stream: 'stdout', task_id: 'T1' };
    expect(formatRecord(rec, 'deva_ts')).toBe('10:42:07.123 INFO  deva_ts-0      result: success, 4 turns, $0.0875, 48 s  [task=T1]');
    expect(formatRecord({ time: 0, level: 30, msg: 'plain', agent: 'qaa', replica: 'qaa-1' }, 'qaa')).toContain('qaa-1          plain');
  });
});

describe('the monitor log pane and the log store', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'streamjson-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('shows a per_task run\'s stream as readable lines, an error result at WARN', async () => {
    const store = new LogStore(dir, { level: 'info', max_file_size_mb: 10, max_files: 2, max_total_size_mb: 100, max_age_days: 1 });
    for (const line of fixture('error-result.ndjson')) store.agentLine({ agent: 'deva_ts', role: 'deva_ts', replica: '0', task_id: 'T9' }, 'stdout', line);
    await store.close();
    const pane = logsPane(tailAgentLog(dir, 'deva_ts', 20), paint(false));
    expect(pane).toHaveLength(fixture('error-result.ndjson').length);
    expect(pane.every((l) => /deva_ts-0 +\S/.test(l))).toBe(true);
    expect(pane[0]).toMatch(/INFO {2}deva_ts-0 +session start: claude-sonnet-4-5-20250929/);
    expect(pane.at(-1)).toMatch(/WARN {2}deva_ts-0 +result: error_during_execution, 2 turns, \$0\.0213, 22 s: Error: connect ECONNREFUSED/);
  });

  it('stores a 16 MB result line with its text cut and its usage kept', async () => {
    const store = new LogStore(dir, { level: 'info', max_file_size_mb: 10, max_files: 2, max_total_size_mb: 100, max_age_days: 1 });
    const big = { ...(JSON.parse(fixture('success.ndjson').at(-1)!) as object), result: 'r'.repeat(16 * 1024 * 1024) };
    store.agentLine({ agent: 'deva_ts', role: 'deva_ts', replica: '0' }, 'stdout', JSON.stringify(big));
    await store.close();
    const stored = readFileSync(path.join(dir, 'deva_ts.log'), 'utf8');
    expect(stored.length).toBeLessThan(64 * 1024);
    const rec = JSON.parse(stored) as Record<string, unknown>;
    expect(rec).toMatchObject({ total_cost_usd: 0.0874512, num_turns: 4, usage: { output_tokens: 480 }, cut_chars: JSON.stringify(big).length });
    expect(rec.result).toMatch(/^r+… \[16777216 chars, cut\]$/);
    expect(tailAgentLog(dir, 'deva_ts', 5)).toEqual([expect.stringMatching(/deva_ts-0 +result: success, 4 turns, \$0\.0875, 48 s$/)]);
  });
});
