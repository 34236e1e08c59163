import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RepeatedWarnings } from '../../../src/supervisor/RepeatedWarnings.js';

function logger() {
  const lines: { fields: Record<string, unknown>; msg: string }[] = [];
  return { lines, warn: (fields: Record<string, unknown>, msg: string) => { lines.push({ fields, msg }); } };
}

describe('RepeatedWarnings', () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it('logs the first 5 of a key per minute, then one "suppressed N" line when the minute is over', () => {
    const log = logger();
    const w = new RepeatedWarnings(log);
    for (let i = 0; i < 1000; i++) w.warn('qaa\0protocol\0not_json', 'malformed protocol lines (not_json) from qaa', { agent: 'qaa', n: i }, `malformed protocol line ${i}`);
    expect(log.lines.map((l) => l.msg)).toEqual([0, 1, 2, 3, 4].map((i) => `malformed protocol line ${i}`));
    vi.advanceTimersByTime(59_999);
    expect(log.lines).toHaveLength(5);
    vi.advanceTimersByTime(1);
    expect(log.lines).toHaveLength(6);
    expect(log.lines[5]?.msg).toMatch(/^suppressed 995 more malformed protocol lines \(not_json\) from qaa in 60 s \(the first 5 of every 60 s are logged/);
    expect(log.lines[5]?.fields).toMatchObject({ agent: 'qaa', n: 999, suppressed: 995, window_seconds: 60 });
    // a new minute logs again
    w.warn('qaa\0protocol\0not_json', 'malformed protocol lines (not_json) from qaa', { agent: 'qaa' }, 'again');
    expect(log.lines.at(-1)?.msg).toBe('again');
  });

  it('limits each key on its own: another agent or another kind of warning is not suppressed', () => {
    const log = logger();
    const w = new RepeatedWarnings(log, { burst: 2, windowMs: 10_000 });
    for (let i = 0; i < 10; i++) {
      w.warn('qaa\0a', 'a from qaa', {}, `qaa a ${i}`);
      w.warn('saa\0a', 'a from saa', {}, `saa a ${i}`);
      w.warn('qaa\0b', 'b from qaa', {}, `qaa b ${i}`);
    }
    expect(log.lines.map((l) => l.msg)).toEqual(['qaa a 0', 'saa a 0', 'qaa b 0', 'qaa a 1', 'saa a 1', 'qaa b 1']);
    vi.advanceTimersByTime(10_000);
    expect(log.lines.slice(6).map((l) => l.msg).sort()).toEqual([
      expect.stringMatching(/^suppressed 8 more a from qaa in 10 s/),
      expect.stringMatching(/^suppressed 8 more a from saa in 10 s/),
      expect.stringMatching(/^suppressed 8 more b from qaa in 10 s/),
    ].sort());
  });

  it('writes no summary when nothing was suppressed, and the due ones at flush (shutdown)', () => {
    const log = logger();
    const w = new RepeatedWarnings(log, { burst: 1, windowMs: 60_000 });
    w.warn('k', 'things', {}, 'one');
    vi.advanceTimersByTime(120_000);
    expect(log.lines.map((l) => l.msg)).toEqual(['one']);
    w.warn('k', 'things', {}, 'two');
    w.warn('k', 'things', {}, 'three');
    vi.advanceTimersByTime(3000);
    w.flush();
    expect(log.lines.map((l) => l.msg)).toEqual(['one', 'two', 'suppressed 1 more things in 3 s (the first 1 of every 60 s are logged; the counters on /metrics count them all)']);
    vi.advanceTimersByTime(60_000);
    expect(log.lines).toHaveLength(3); // the timer was stopped
  });
});
