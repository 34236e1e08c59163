import { describe, expect, it } from 'vitest';
import { SampleBuffer } from '../../../src/health/leak/SampleBuffer.js';
import type { Sample } from '../../../src/health/leak/series.js';

describe('SampleBuffer', () => {
  it('holds what an array of samples would, through growth, compaction, drops and clears', () => {
    const buf = new SampleBuffer();
    let model: Sample[] = [];
    let seed = 7;
    const rnd = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    let t = 1_765_000_000.125;
    for (let step = 0; step < 20_000; step++) {
      t += 0.5 + rnd();
      const bytes = Math.floor(40e6 + rnd() * 8e6);
      buf.push(t, bytes);
      model.push({ t, bytes });
      // Keep a sliding window, sometimes wide (the arrays grow), sometimes narrow (they compact).
      const keep = step % 5000 < 2500 ? 900 : 60;
      buf.dropBefore(t - keep);
      model = model.filter((s) => s.t >= t - keep);
      if (step === 12_345) { buf.clear(); model = []; }
      if (step % 997 === 0 || step === 19_999) {
        expect(buf.length).toBe(model.length);
        expect(buf.lastT()).toBe(model.at(-1)?.t);
        const from = t - keep * rnd();
        expect(buf.between(from, t)).toEqual(model.filter((s) => s.t >= from && s.t <= t));
        expect(buf.between(t - 2 * keep, t - keep / 2)).toEqual(model.filter((s) => s.t >= t - 2 * keep && s.t <= t - keep / 2));
      }
    }
  });

  it('is empty when new or cleared', () => {
    const buf = new SampleBuffer();
    expect(buf.length).toBe(0);
    expect(buf.lastT()).toBeUndefined();
    expect(buf.between(-Infinity, Infinity)).toEqual([]);
    buf.push(1, 2);
    buf.clear();
    expect(buf.lastT()).toBeUndefined();
    expect(buf.between(-Infinity, Infinity)).toEqual([]);
  });
});
