import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createClaudeStreamJsonAdapter, createNdjsonAdapter, createStdoutAdapter, type AdapterEvent, type StdoutAdapter } from '../../src/supervisor/adapters/index.js';
import { resultErrorText } from '../../src/supervisor/adapters/resultError.js';

const fixture = (name: string): string[] => {
  const text = readFileSync(fileURLToPath(new URL(`../fixtures/claude-stream-json/${name}`, import.meta.url)), 'utf8');
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n');
};
const feed = (adapter: StdoutAdapter, lines: string[]): AdapterEvent[] => lines.flatMap((l) => adapter.onLine(l));
const ofKind = <K extends AdapterEvent['kind']>(events: AdapterEvent[], kind: K) =>
  events.filter((e): e is Extract<AdapterEvent, { kind: K }> => e.kind === kind);

const SUCCESS_TEXT = 'Added `validateCoupon()` in src/cart/coupon.ts and covered it with tests; all 48 tests pass.';
/** Tokens so far after each API message of success.ndjson (a message's repeated lines count once). */
const usageSoFar = (input_tokens: number, output_tokens: number, cache_creation_input_tokens: number, cache_read_input_tokens: number) =>
  ({ input_tokens, output_tokens, cache_creation_input_tokens, cache_read_input_tokens });
const SUCCESS_PROGRESS = [
  { turns: 1, message: "I'll start by looking at how coupons are applied in the cart.", usage: usageSoFar(4, 112, 2311, 11872) },
  { turns: 1, message: 'tool: Read src/cart/coupon.ts', usage: usageSoFar(4, 112, 2311, 11872) },
  { turns: 2, message: 'tool: Edit src/cart/coupon.ts', usage: usageSoFar(10, 343, 2729, 26055) },
  { turns: 3, message: 'tool: Bash npm test -- --run src/cart', usage: usageSoFar(15, 439, 3031, 40656) },
  { turns: 4, message: SUCCESS_TEXT, usage: usageSoFar(18, 480, 3218, 55675) },
].map((p) => ({ kind: 'progress', ...p, model: 'claude-sonnet-4-5-20250929' }));
const SUCCESS_RESULT = {
  kind: 'result', ok: true, subtype: 'success', num_turns: 4, duration_ms: 48213, total_cost_usd: 0.0874512, result: SUCCESS_TEXT,
  session_id: '3f6c2a1e-9b7d-4c1e-8a2f-5d0e4b7c9a11',
  usage: { input_tokens: 18, output_tokens: 480, cache_creation_input_tokens: 3218, cache_read_input_tokens: 55675 },
};

describe('claude-stream-json adapter', () => {
  it('counts one turn per API message id, summarises text and tool use, and reports the result', () => {
    const events = feed(createClaudeStreamJsonAdapter(), fixture('success.ndjson'));
    expect(ofKind(events, 'progress')).toEqual(SUCCESS_PROGRESS);
    expect(ofKind(events, 'result')).toEqual([SUCCESS_RESULT]);
    expect(ofKind(events, 'log')).toEqual([expect.objectContaining({ level: 'info', msg: 'claude session started', fields: expect.objectContaining({ session_id: SUCCESS_RESULT.session_id, model: 'claude-sonnet-4-5-20250929' }) })]);
    expect(ofKind(events, 'malformed')).toEqual([]);
    // Each tool call and its answer, paired by id, for loop detection (inputs as canonical JSON, answers hashed).
    const calls = ofKind(events, 'tool_call');
    expect(calls.map((c) => [c.name, c.summary])).toEqual([['Read', 'Read src/cart/coupon.ts'], ['Edit', 'Edit src/cart/coupon.ts'], ['Bash', 'Bash npm test -- --run src/cart']]);
    expect(calls[2]?.input).toBe('{"command":"npm test -- --run src/cart","description":"Run the cart tests"}');
    const results = ofKind(events, 'tool_result');
    expect(results.map((r) => r.id)).toEqual(calls.map((c) => c.id));
    expect(new Set(results.map((r) => r.digest)).size).toBe(3);
    expect(results.every((r) => /^[\w-]{16}$/.test(r.digest) && !r.isError)).toBe(true);
  });

  it('reports an error result as not ok, keeps its errors as the text and warns about the failed tool', () => {
    const events = feed(createClaudeStreamJsonAdapter(), fixture('error-result.ndjson'));
    const [result, ...more] = ofKind(events, 'result');
    expect(more).toEqual([]);
    expect(result).toMatchObject({ ok: false, num_turns: 2, duration_ms: 21544, total_cost_usd: 0.0213377, result: 'Error: connect ECONNREFUSED 127.0.0.1:5432' });
    expect(result?.usage).toEqual({ input_tokens: 10, output_tokens: 145, cache_creation_input_tokens: 2220, cache_read_input_tokens: 25724 });
    expect(ofKind(events, 'log').filter((l) => l.level === 'warn')).toEqual([
      expect.objectContaining({ msg: expect.stringMatching(/^tool error: Error: connect ECONNREFUSED 127\.0\.0\.1:5432/), fields: { tool_use_id: 'toolu_01Zz9Yy8Xx7Ww6Vv5Uu4Tt3S' } }),
    ]);
    expect(ofKind(events, 'progress').map((p) => p.turns)).toEqual([1, 1, 2]);
  });

  it('is not ok when a success subtype carries is_error, or for any error subtype', () => {
    const ok = (line: object) => (createClaudeStreamJsonAdapter().onLine(JSON.stringify(line))[0] as { ok?: boolean }).ok;
    expect(ok({ type: 'result', subtype: 'success', is_error: true, result: 'Invalid API key' })).toBe(false);
    expect(ok({ type: 'result', subtype: 'error_max_turns', is_error: false })).toBe(false);
    expect(ok({ type: 'result', subtype: 'success', is_error: false })).toBe(true);
  });

  it('carries the result subtype, and the task error names it with the turns', () => {
    const [result] = createClaudeStreamJsonAdapter().onLine(JSON.stringify({ type: 'result', subtype: 'error_max_turns', is_error: false, num_turns: 30, errors: ['Reached maximum number of turns (30)'] }));
    expect(result).toMatchObject({ kind: 'result', ok: false, subtype: 'error_max_turns', num_turns: 30 });
    expect(resultErrorText(result as Extract<AdapterEvent, { kind: 'result' }>)).toBe('claude result error_max_turns after 30 turns: Reached maximum number of turns (30)');
    const events = feed(createClaudeStreamJsonAdapter(), fixture('error-result.ndjson'));
    expect(resultErrorText(ofKind(events, 'result')[0]!)).toBe('claude result error_during_execution after 2 turns: Error: connect ECONNREFUSED 127.0.0.1:5432');
    expect(resultErrorText({ kind: 'result', ok: false, subtype: 'success', num_turns: 1, result: 'Invalid API key' })).toBe('claude result success with is_error after 1 turn: Invalid API key');
  });

  it('turns a stream cut mid-line into a malformed event and no result', () => {
    const events = feed(createClaudeStreamJsonAdapter(), fixture('truncated.ndjson'));
    expect(ofKind(events, 'result')).toEqual([]);
    expect(events.at(-1)).toEqual({ kind: 'malformed', detail: expect.stringMatching(/^invalid or truncated JSON: /) });
    expect(ofKind(events, 'malformed')).toHaveLength(1);
    expect(ofKind(events, 'progress').at(-1)).toMatchObject({ kind: 'progress', turns: 2, message: 'tool: Edit src/cart/coupon.ts' });
  });

  it('survives garbage lines: junk is malformed, readable text is a log, the stream still adds up', () => {
    const events = feed(createClaudeStreamJsonAdapter(), fixture('garbage.ndjson'));
    expect(ofKind(events, 'progress')).toEqual(SUCCESS_PROGRESS);
    expect(ofKind(events, 'result')).toEqual([SUCCESS_RESULT]);
    expect(ofKind(events, 'malformed').map((m) => m.detail.split(':')[0])).toEqual([
      'invalid or truncated JSON', 'binary or control characters', 'expected a JSON event object, got an array', 'JSON object has no string "type" field',
    ]);
    expect(ofKind(events, 'log').slice(1).map(({ level, msg }) => ({ level, msg }))).toEqual([
      { level: 'warn', msg: 'Warning: running without a TTY; some features are disabled' },
      { level: 'info', msg: '[debug] retrying API request (attempt 2)' },
      { level: 'warn', msg: 'Error: EPIPE while writing to the terminal' },
    ]);
  });

  it('caps summaries at 200 characters and the result at 4 KiB without splitting characters', () => {
    const a = createClaudeStreamJsonAdapter();
    const [progress] = a.onLine(JSON.stringify({ type: 'assistant', message: { id: 'm1', content: [{ type: 'text', text: 'é'.repeat(500) }] } }));
    expect(progress).toEqual({ kind: 'progress', turns: 1, message: `${'é'.repeat(199)}…`, usage: undefined });
    const [result] = a.onLine(JSON.stringify({ type: 'result', subtype: 'success', is_error: false, result: '€'.repeat(3000) }));
    const text = (result as { result: string }).result;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(4096);
    expect(text).toMatch(/^€+… \[9000 bytes, cut\]$/);
  });

  it('reads a 16 MB result line whole: usage and cost, the text cut to 4 KiB with a marker', () => {
    const line = JSON.stringify({ ...JSON.parse(fixture('success.ndjson').at(-1)!), result: `S${'y'.repeat(16 * 1024 * 1024)}E` });
    const [result, ...more] = createClaudeStreamJsonAdapter().onLine(line);
    expect(more).toEqual([]);
    expect(result).toMatchObject({ ...SUCCESS_RESULT, result: expect.stringMatching(/^Sy+… \[16777218 bytes, cut\]$/) });
    expect(Buffer.byteLength((result as { result: string }).result)).toBeLessThanOrEqual(4096);
  });

  it('reads subtype, turns, usage and cost from the ends of a result line over the limit', () => {
    const success = JSON.parse(fixture('success.ndjson').at(-1)!) as Record<string, unknown>;
    for (const [name, ev] of [['success', success], ['error', { ...success, subtype: 'error_max_turns', is_error: false, num_turns: 30 }]] as const) {
      // the text holds look-alike keys, escaped as JSON escapes them: they must not be read
      const text = `Plan:\n{"num_turns":999,"total_cost_usd":123,"usage":{"input_tokens":1}}\n${'z'.repeat(300_000)}\n"session_id":"fake"`;
      const line = Buffer.from(JSON.stringify({ ...ev, result: text }));
      const keep = 64 * 1024;
      const events = createClaudeStreamJsonAdapter().onOversizedLine!({ bytes: line.length, limit: 200_000, head: line.subarray(0, keep).toString(), tail: line.subarray(line.length - keep).toString() });
      const [over, result] = events;
      expect(events, name).toHaveLength(2);
      expect(over).toMatchObject({ kind: 'oversized', bytes: line.length, limit: 200_000, standIn: { type: 'result', subtype: ev.subtype, num_turns: ev.num_turns, total_cost_usd: 0.0874512 } });
      expect(result).toMatchObject({
        kind: 'result', ok: name === 'success', subtype: ev.subtype, num_turns: ev.num_turns, duration_ms: 48213, total_cost_usd: 0.0874512,
        usage: SUCCESS_RESULT.usage, session_id: SUCCESS_RESULT.session_id, oversized_bytes: line.length,
      });
      const kept = (result as { result: string }).result;
      expect(kept.startsWith('Plan:\n{"num_turns":999')).toBe(true);
      expect(kept).toMatch(new RegExp(`\\[result line of ${line.length} bytes, over max_result_bytes 200000: its text is cut\\]$`));
      expect(Buffer.byteLength(kept)).toBeLessThanOrEqual(4096);
    }
  });

  it('reports an oversized line that is not a result as oversized only', () => {
    const line = JSON.stringify({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', content: 'q'.repeat(200_000) }] }, session_id: 's' });
    expect(createClaudeStreamJsonAdapter().onOversizedLine!({ bytes: line.length, limit: 1024, head: line.slice(0, 65536), tail: line.slice(-65536) }))
      .toEqual([{ kind: 'oversized', bytes: line.length, limit: 1024, standIn: { type: 'user' } }]);
  });

  it('never throws, whatever the line', () => {
    const a = createClaudeStreamJsonAdapter();
    const odd = ['null', '"text"', '42', '{"type":"assistant"}', '{"type":"assistant","message":{"content":"plain"}}', '{"type":"user","message":{}}',
      '{"type":"result","usage":"lots","num_turns":-1}', '{"type":"stream_event","event":{}}', '\u0000', 'x'.repeat(1_000_000), '{'.repeat(10_000)];
    const lines = [...odd, ...fixture('success.ndjson').flatMap((l) => [l.slice(0, 37), l.slice(37)])];
    for (const line of lines) expect(Array.isArray(a.onLine(line))).toBe(true);
    expect(a.onLine('{"type":"result","usage":"lots","num_turns":-1}')).toEqual([expect.objectContaining({ kind: 'result', ok: false, usage: undefined, num_turns: undefined })]);
  });
});

describe('ndjson adapter', () => {
  it('turns progress fractions and messages into progress events', () => {
    const a = createNdjsonAdapter();
    expect(feed(a, ['{"progress":0.25,"message":"compiling"}', '{"progress":1}', '{"message":"almost done","turns":7}'])).toEqual([
      { kind: 'progress', turns: 1, message: '25% compiling' },
      { kind: 'progress', turns: 2, message: '100%' },
      { kind: 'progress', turns: 7, message: 'almost done' },
    ]);
  });

  it('treats everything else as a log line, warning for error-level records', () => {
    const a = createNdjsonAdapter();
    const events = feed(a, ['plain text', '{"progress":1.5}', '{"level":50,"msg":"db down"}', '{"level":"error","message":"disk full"}', '{"trunc', '', '[1]']);
    expect(events.map((e) => (e.kind === 'log' ? [e.level, e.msg] : e.kind))).toEqual([
      ['info', 'plain text'], ['info', '{"progress":1.5}'], ['warn', 'db down'], ['warn', 'disk full'], ['info', '{"trunc'], ['info', '[1]'],
    ]);
    expect(events[2]).toMatchObject({ fields: { level: 50, msg: 'db down' } });
  });
});

describe('createStdoutAdapter', () => {
  it('returns nothing for none and a fresh adapter of the right kind otherwise', () => {
    expect(createStdoutAdapter('none')).toBeUndefined();
    expect(createStdoutAdapter('ndjson')?.onLine('{"progress":0.5}')).toEqual([{ kind: 'progress', turns: 1, message: '50%' }]);
    const first = createStdoutAdapter('claude-stream-json');
    feed(first!, fixture('success.ndjson'));
    const second = createStdoutAdapter('claude-stream-json');
    expect(second?.onLine(fixture('success.ndjson')[1]!)).toEqual([SUCCESS_PROGRESS[0]]);
  });
});

const FAKE = fileURLToPath(new URL('../../examples/agents/fake-claude.mjs', import.meta.url));
const HOSTILE = ` Fix "the" bug's $(rm -rf ~) \`id\` ; rm -rf ~ && echo pwned\nsecond line\n\ttabbed * ? [x] $HOME 'single' ünïcødé\n`;
type Run = { code: number | null; stdout: string; stderr: string };
const run = (file: string, args: string[], env: Record<string, string> = {}): Promise<Run> =>
  new Promise((resolve) => {
    execFile(file, args, { env: { ...process.env, FAKE_CLAUDE_DELAY_MS: '0', ...env }, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
const claudeArgs = (prompt: string) => [FAKE, '-p', prompt, '--output-format', 'stream-json', '--verbose', '--model', 'claude-test'];
const adapt = (stdout: string) => feed(createClaudeStreamJsonAdapter(), stdout.split('\n'));

describe('fake-claude.mjs through the adapter', () => {
  it('receives a hostile prompt verbatim through argv (no shell) and exits 0', async () => {
    const { code, stdout, stderr } = await run(process.execPath, claudeArgs(HOSTILE));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const events = adapt(stdout);
    const [result] = ofKind(events, 'result');
    expect(result).toMatchObject({ ok: true, session_id: ofKind(events, 'log')[0]?.fields?.session_id });
    expect(result?.result?.endsWith(`\n${HOSTILE}`)).toBe(true);
    expect(ofKind(events, 'progress').at(-1)?.turns).toBe(result?.num_turns);
    expect(ofKind(events, 'malformed')).toEqual([]);
  });

  it('honours FAKE_CLAUDE_TURNS and reports the same usage and cost for the same prompt', async () => {
    const [a, b] = await Promise.all([run(process.execPath, claudeArgs('story'), { FAKE_CLAUDE_TURNS: '5' }), run(process.execPath, claudeArgs('story'), { FAKE_CLAUDE_TURNS: '5' })]);
    const [ra, rb] = [ofKind(adapt(a.stdout), 'result')[0], ofKind(adapt(b.stdout), 'result')[0]];
    expect(ra).toMatchObject({ ok: true, num_turns: 5 });
    expect(ra?.total_cost_usd).toBeGreaterThan(0);
    expect([rb?.usage, rb?.total_cost_usd]).toEqual([ra?.usage, ra?.total_cost_usd]);
    expect(ofKind(adapt(a.stdout), 'progress').map((p) => p.message)).toContain('tool: Edit src/index.ts');
  });

  it('reports its session on system/init, and continues a session given with --resume (saying so)', async () => {
    const first = adapt((await run(process.execPath, claudeArgs('story'))).stdout);
    const [session] = ofKind(first, 'session');
    expect(session?.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(ofKind(first, 'result')[0]?.session_id).toBe(session?.sessionId);
    const again = await run(process.execPath, [...claudeArgs('story'), '--resume', session?.sessionId as string]);
    expect(again.stderr).toBe(`resuming session ${session?.sessionId}\n`);
    const resumed = adapt(again.stdout);
    expect(ofKind(resumed, 'session')).toEqual([{ kind: 'session', sessionId: session?.sessionId }]);
    expect(ofKind(resumed, 'progress')[0]?.message).toBe(`Resuming session ${session?.sessionId}: picking up the story where the last run stopped.`);
    expect(ofKind(resumed, 'result')[0]).toMatchObject({ ok: true, session_id: session?.sessionId, result: expect.stringContaining(`(resumed session ${session?.sessionId})`) });
  });

  it('reports FAKE_CLAUDE_FAIL as a failed result and exit code 1', async () => {
    const { code, stdout } = await run(process.execPath, claudeArgs('break it'), { FAKE_CLAUDE_FAIL: '1' });
    expect(code).toBe(1);
    expect(ofKind(adapt(stdout), 'result')).toEqual([expect.objectContaining({ ok: false, result: expect.stringContaining('npm test') })]);
  });

  it('interleaves junk with FAKE_CLAUDE_GARBAGE and still finishes cleanly', async () => {
    const { code, stdout } = await run(process.execPath, claudeArgs('noisy'), { FAKE_CLAUDE_GARBAGE: '1', FAKE_CLAUDE_TURNS: '4' });
    const events = adapt(stdout);
    expect(code).toBe(0);
    expect(ofKind(events, 'malformed').length).toBeGreaterThanOrEqual(2);
    expect(ofKind(events, 'result')).toEqual([expect.objectContaining({ ok: true, num_turns: 4 })]);
  });

  it('runs through its shebang and rejects a prompt split into two arguments', async () => {
    expect((await run(FAKE, claudeArgs('via shebang').slice(1))).code).toBe(0);
    const split = await run(process.execPath, [FAKE, '-p', 'half', 'other half', '--output-format', 'stream-json']);
    expect(split.code).toBe(2);
    expect(split.stderr).toMatch(/expected one prompt argument, got 2/);
  });

  it('hangs mid-tool with FAKE_CLAUDE_HANG and exits promptly on SIGTERM', async () => {
    const child = spawn(process.execPath, claudeArgs('hang'), { env: { ...process.env, FAKE_CLAUDE_DELAY_MS: '0', FAKE_CLAUDE_HANG: '1' } });
    const adapter = createClaudeStreamJsonAdapter();
    const seen: AdapterEvent[] = [];
    let buffered = '';
    await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => {
      const lines = (buffered + chunk.toString('utf8')).split('\n');
      buffered = lines.pop() ?? '';
      seen.push(...feed(adapter, lines));
      if (seen.some((e) => e.kind === 'progress' && e.message.startsWith('tool: '))) resolve();
    }));
    await new Promise((r) => setTimeout(r, 300));
    expect(child.exitCode).toBeNull();
    expect(ofKind(seen, 'result')).toEqual([]);
    const started = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(code).toBe(143);
  });
});
