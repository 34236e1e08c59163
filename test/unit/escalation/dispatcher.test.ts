import { describe, expect, it } from 'vitest';
import { EscalationDispatcher } from '../../../src/recovery/escalation/EscalationDispatcher.js';
import { zeroCounters, type AlertLog, type ChannelCounters, type Escalation, type Notifier } from '../../../src/recovery/escalation/Notifier.js';

/** An in-memory channel that records what it was given. */
class Recorder implements Notifier {
  readonly got: Escalation[] = [];
  private readonly counts = zeroCounters();
  closedWith: number | undefined;
  constructor(readonly channel: string) {}
  notify(e: Escalation): void {
    this.got.push(e);
    this.counts.sent++;
  }
  counters(): ChannelCounters {
    return { ...this.counts };
  }
  async close(graceMs?: number): Promise<void> {
    this.closedWith = graceMs;
  }
}

/** A channel that fails in every way it can. */
const broken: Notifier = {
  channel: 'broken',
  notify: () => { throw new Error('boom'); },
  counters: () => { throw new Error('no counters either'); },
  close: () => Promise.reject(new Error('cannot close')),
};

const errors: string[] = [];
const log: AlertLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (_o, m) => errors.push(m) };
const throwingLog: AlertLog = { debug: () => { throw new Error('log down'); }, info: () => undefined, warn: () => undefined, error: () => { throw new Error('log down'); } };
const esc = (slot: string, reason: Escalation['reason'] = 'circuit_open'): Escalation => ({ agent: slot.replace(/-\d+$/, ''), role: 'r', slot, reason, detail: 'd', at: 0 });

describe('EscalationDispatcher', () => {
  it('sends every escalation to every channel', () => {
    const a = new Recorder('email');
    const b = new Recorder('webhook');
    const d = new EscalationDispatcher({ notifiers: [a, b], log });
    d.dispatch(esc('qaa-0'));
    d.dispatch(esc('saa-0'));
    expect(a.got.map((e) => e.slot)).toEqual(['qaa-0', 'saa-0']);
    expect(b.got.map((e) => e.slot)).toEqual(['qaa-0', 'saa-0']);
    expect(d.channels).toEqual(['email', 'webhook']);
    expect(d.counters()).toEqual({ email: { sent: 2, failed: 0, dropped: 0 }, webhook: { sent: 2, failed: 0, dropped: 0 } });
  });

  it('suppresses the same replica and reason within the window, and sends it again after', () => {
    let now = 1_000;
    const a = new Recorder('email');
    const d = new EscalationDispatcher({ notifiers: [a], log, dedupeWindowMs: 60_000, clock: () => now });
    d.dispatch(esc('qaa-0'));
    now += 59_999;
    d.dispatch(esc('qaa-0'));
    d.dispatch(esc('qaa-0', 'restarts_exhausted')); // another reason: sent
    d.dispatch(esc('qaa-1')); // another replica: sent
    expect(a.got.map((e) => `${e.slot}/${e.reason}`)).toEqual(['qaa-0/circuit_open', 'qaa-0/restarts_exhausted', 'qaa-1/circuit_open']);
    expect(d.suppressed).toBe(1);
    now += 1;
    d.dispatch(esc('qaa-0'));
    expect(a.got).toHaveLength(4);
  });

  it('sends every escalation when the window is 0', () => {
    const a = new Recorder('console');
    const d = new EscalationDispatcher({ notifiers: [a], log, dedupeWindowMs: 0 });
    for (let i = 0; i < 3; i++) d.dispatch(esc('qaa-0'));
    expect(a.got).toHaveLength(3);
    expect(d.suppressed).toBe(0);
  });

  it('never throws: a broken channel is counted and logged, and the others still get the escalation', async () => {
    errors.length = 0;
    const a = new Recorder('email');
    const d = new EscalationDispatcher({ notifiers: [broken, a], log });
    expect(() => d.dispatch(esc('qaa-0'))).not.toThrow();
    expect(a.got).toHaveLength(1);
    expect(d.counters()).toEqual({ broken: { sent: 0, failed: 1, dropped: 0 }, email: { sent: 1, failed: 0, dropped: 0 } });
    expect(errors[0]).toContain('broken alert for qaa-0 failed: boom');
    await expect(d.close()).resolves.toBeUndefined();
  });

  it('never throws even when the clock and the logger throw too', () => {
    const a = new Recorder('email');
    const d = new EscalationDispatcher({ notifiers: [broken, a], log: throwingLog, clock: () => { throw new Error('clock'); } });
    expect(() => d.dispatch(esc('qaa-0'))).not.toThrow();
    expect(a.got).toHaveLength(1);
  });

  it('closes every channel once, passing the grace period on', async () => {
    const a = new Recorder('email');
    const b = new Recorder('webhook');
    const d = new EscalationDispatcher({ notifiers: [a, broken, b], log });
    const first = d.close(1234);
    expect(d.close()).toBe(first);
    await first;
    expect([a.closedWith, b.closedWith]).toEqual([1234, 1234]);
  });
});
