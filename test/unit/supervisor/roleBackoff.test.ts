import { describe, expect, it } from 'vitest';
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
