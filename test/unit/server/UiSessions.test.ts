import { describe, expect, it } from 'vitest';
import { UiSessions } from '../../../src/server/ui/UiSessions.js';

describe('UiSessions', () => {
  it('redeems a code once, within its lifetime (5 min by default)', () => {
    let now = 1_000_000;
    const s = new UiSessions({ now: () => now });
    const a = s.issueCode();
    expect(a.expiresAt).toBe(now + 300_000);
    const session = s.redeem(a.code);
    expect(session?.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.redeem(a.code)).toBeUndefined();
    const b = s.issueCode();
    now += 300_000;
    expect(s.redeem(b.code)).toBeUndefined();
    expect(s.session(session?.id)).toBe(session);
  });

  it('ends a session after its lifetime, and on logout', () => {
    let now = 0;
    const s = new UiSessions({ now: () => now, sessionTtlMs: 1000 });
    const one = s.redeem(s.issueCode().code);
    const two = s.redeem(s.issueCode().code);
    s.end(two!.id);
    expect(s.session(two!.id)).toBeUndefined();
    now = 999;
    expect(s.session(one!.id)).toBe(one);
    now = 1000;
    expect(s.session(one!.id)).toBeUndefined();
  });

  it('keeps at most `max` codes and sessions, dropping the oldest; checks the CSRF token', () => {
    const s = new UiSessions({ max: 2 });
    const codes = [s.issueCode(), s.issueCode(), s.issueCode()];
    expect(s.redeem(codes[0]!.code)).toBeUndefined();
    const sess = s.redeem(codes[2]!.code)!;
    expect(s.csrfMatches(sess, sess.csrf)).toBe(true);
    expect(s.csrfMatches(sess, `${sess.csrf}x`)).toBe(false);
    expect(s.csrfMatches(sess, undefined)).toBe(false);
  });
});
