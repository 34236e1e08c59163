import { describe, expect, it } from 'vitest';
import { llmHoldFindings } from '../../../src/health/llmHolds.js';
import { RoleBackoff } from '../../../src/supervisor/RoleBackoff.js';

describe('RoleBackoff', () => {
  it('one storm is one backoff: reports while held do not extend it', () => {
    const b = new RoleBackoff(30_000, 600_000);
    expect(b.rateLimited('deva', 1_000)).toEqual({ started: true, until: 31_000, delayMs: 30_000, streak: 1 });
    expect(b.rateLimited('deva', 2_000)).toMatchObject({ started: false, until: 31_000 });
    expect(b.rateLimited('deva', 30_999)).toMatchObject({ started: false, until: 31_000 });
    expect(b.heldUntil('deva', 30_999)).toBe(31_000);
    expect(b.heldUntil('deva', 31_000)).toBeUndefined();
    expect(b.heldUntil('qaa', 2_000)).toBeUndefined(); // other roles are not held
  });

  it('doubles while limits keep coming after each backoff, up to max; a later success ends the episode', () => {
    const b = new RoleBackoff(30_000, 100_000);
    expect(b.rateLimited('r', 0).delayMs).toBe(30_000);
    expect(b.rateLimited('r', 30_000).delayMs).toBe(60_000);
    expect(b.rateLimited('r', 90_000).delayMs).toBe(100_000);
    expect(b.rateLimited('r', 190_000)).toMatchObject({ delayMs: 100_000, streak: 4 });
    // A run that started during the backoff and completed says nothing about the API now.
    b.succeeded('r', 200_000);
    expect(b.rateLimited('r', 290_000).streak).toBe(5);
    // One that started after it ended does: the next limit starts again at base.
    b.succeeded('r', 390_000);
    expect(b.rateLimited('r', 400_000)).toMatchObject({ delayMs: 30_000, streak: 1 });
    expect([...b.held(400_001)]).toEqual([['r', 430_000]]);
  });
});

describe('a rate limit on several roles at once is the account\'s: one fleet finding', () => {
  const findings = (b: RoleBackoff, now: number) => llmHoldFindings({ budgetHolds: new Map(), roleBackoff: b }, now);

  it('one role held: one rate_limited finding for it; two at once: one shared_rate_limit finding in their place; it clears as the backoffs end', () => {
    const b = new RoleBackoff(30_000, 600_000);
    b.rateLimited('deva', 1_000);
    expect(b.shared(2_000)).toBeUndefined();
    expect(findings(b, 2_000).map((f) => [f.kind, f.subject, f.since])).toEqual([['rate_limited', 'deva', 1_000]]);
    b.rateLimited('qaa', 11_000);
    expect(b.shared(12_000)?.map((h) => h.role)).toEqual(['deva', 'qaa']);
    const [f, ...rest] = findings(b, 12_000);
    expect(rest).toEqual([]);
    expect(f).toMatchObject({ check: 'system', kind: 'shared_rate_limit', severity: 'degraded', value: 2, threshold: 2, unit: 'count', since: 1_000, restart: false });
    expect(f?.subject).toBeUndefined();
    expect(f?.message).toBe('system: the LLM API is rate-limiting 2 roles at once (deva, qaa) for 11s — the provider is limiting the account, not one role; each role backs off (llm.rate_limit_backoff), the last until about 00:00:41 UTC, and their tasks wait');
    // deva's backoff ends at 31 s: qaa alone is one role's limit again, then nothing.
    expect(findings(b, 31_000).map((f) => [f.kind, f.subject])).toEqual([['rate_limited', 'qaa']]);
    expect(findings(b, 41_000)).toEqual([]);
    expect(b.shared(41_000)).toBeUndefined();
  });

  it('the episode\'s start is kept through backoffs in a row, and a success starts a new one', () => {
    const b = new RoleBackoff(1_000, 10_000);
    b.rateLimited('r', 0);
    b.rateLimited('r', 5_000);
    expect(b.holds(5_500)).toEqual([{ role: 'r', until: 7_000, since: 0, streak: 2 }]);
    b.succeeded('r', 8_000);
    b.rateLimited('r', 9_000);
    expect(b.holds(9_500)).toEqual([{ role: 'r', until: 10_000, since: 9_000, streak: 1 }]);
  });
});

describe('the claude-stream-json adapter names rate limits', () => {
  it('an assistant rate_limit error and an error result naming 429 / 529 / an overload are rate limits; other errors are not', async () => {
    const { createClaudeStreamJsonAdapter } = await import('../../../src/supervisor/adapters/index.js');
    const kinds = (ev: object) => createClaudeStreamJsonAdapter().onLine(JSON.stringify(ev)).map((e) => e.kind);
    const errorResult = (text: string) => ({ type: 'result', subtype: 'success', is_error: true, num_turns: 1, result: text });
    expect(kinds({ type: 'assistant', message: { id: 'm', content: [] }, error: 'rate_limit' })).toEqual(['progress', 'log', 'rate_limited']);
    expect(kinds({ type: 'assistant', message: { id: 'm', content: [] }, error: 'authentication_failed' })).toEqual(['progress', 'log']);
    expect(kinds(errorResult('API Error: 429 {"type":"error","error":{"type":"rate_limit_error"}}'))).toEqual(['rate_limited', 'result']);
    expect(kinds(errorResult('API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'))).toEqual(['rate_limited', 'result']);
    expect(kinds(errorResult('Error: connect ECONNREFUSED 127.0.0.1:5432'))).toEqual(['result']);
    expect(kinds(errorResult('TypeError: x is undefined at cart.ts line 429'))).toEqual(['result']);
    // A successful result that mentions a rate limit in its text is a success.
    expect(kinds({ type: 'result', subtype: 'success', is_error: false, result: 'added a rate limit of 429 req/s' })).toEqual(['result']);
  });
});
