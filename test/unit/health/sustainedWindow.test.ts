import { describe, expect, it } from 'vitest';
import { SustainedWindow } from '../../../src/health/SustainedWindow.js';

describe('SustainedWindow', () => {
  it('is sustained only once every observation over the whole window exceeded', () => {
    const w = new SustainedWindow(3000);
    expect(w.update(0, true, 90).sustained).toBe(false);
    expect(w.update(1000, true, 95).sustained).toBe(false);
    expect(w.update(2999, true, 92).sustained).toBe(false);
    const s = w.update(3000, true, 91);
    expect(s).toEqual({ exceeded: true, sustained: true, since: 0, value: 91, peak: 95 });
  });

  it('does not count a spike: one sample below the threshold starts the window again', () => {
    const w = new SustainedWindow(3000);
    w.update(0, true, 99);
    w.update(1000, true, 99);
    w.update(2000, false, 10);
    expect(w.update(3000, true, 99)).toMatchObject({ exceeded: true, sustained: false, since: 3000 });
    expect(w.update(5999, true, 99).sustained).toBe(false);
    expect(w.update(6000, true, 99).sustained).toBe(true);
  });

  it('breaks the run when observations stop for longer than maxGapMs', () => {
    const w = new SustainedWindow(2000, 1500);
    w.update(0, true, 99);
    w.update(1000, true, 99);
    expect(w.update(5000, true, 99)).toMatchObject({ since: 5000, sustained: false });
  });

  it('ignores observations older than the last one, and forgets everything on reset()', () => {
    const w = new SustainedWindow(1000);
    w.update(5000, true, 99);
    expect(w.update(4000, false, 1)).toMatchObject({ exceeded: true, since: 5000 });
    w.reset();
    expect(w.state()).toEqual({ exceeded: false, sustained: false, since: undefined, value: undefined, peak: undefined });
  });

  it('treats a zero window as "one exceeding sample is enough", and rejects a negative one', () => {
    expect(new SustainedWindow(0).update(10, true, 1).sustained).toBe(true);
    expect(() => new SustainedWindow(-1)).toThrow(/windowMs.*-1/);
  });
});
