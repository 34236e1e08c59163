import { describe, expect, it } from 'vitest';
import { MemoryLeakCheck } from '../../../src/health/memoryLeaks.js';
import type { Target } from '../../../src/health/Target.js';
import { bgConfig, context, target } from '../../helpers/health.js';

const T0 = 1_700_000_000_000;
const MiB = 1024 * 1024;
const hc = bgConfig({ monitoring: { health_checks: { memory_leaks: { window: 60, warmup: 10, min_growth_mb_per_min: 2, min_r_squared: 0.6 }, resource_usage: { max_memory_mb: 512 } } } }).monitoring.health_checks;

/** Feeds `seconds` of 1 s samples of `rss(t)` (t in s since T0) and returns the result at the end. */
function feed(check: MemoryLeakCheck, t: Target, seconds: number, rss: (s: number) => number, from = 0) {
  let last;
  for (let s = from; s <= from + seconds; s++) {
    const at = T0 + s * 1000;
    check.observe([t], context(at, { 4242: { cpu: 1, rss: rss(s), at } }));
    last = check.evaluate(t, context(at, { 4242: { cpu: 1, rss: rss(s), at } }));
  }
  return last!;
}
const noise = (s: number) => ((s * 7919) % 13) * 20_000; // deterministic ±0.25 MB jitter

describe('memory_leaks', () => {
  it('warms up first, then flags a steady 6 MB/min growth with its rate and the projected time to max_memory_mb', () => {
    const check = new MemoryLeakCheck(hc.memory_leaks, 5000, hc.resource_usage.max_memory_mb);
    const t = target(T0);
    const leak = (s: number) => 100 * MiB + s * 0.1 * MiB + noise(s);
    expect(feed(check, t, 8, leak)).toMatchObject({ status: 'healthy', summary: 'warming up', measurements: { growth_bytes_per_second: 0 } });
    const r = feed(check, t, 80, leak, 9);
    // 1h08m to the limit is beyond restart_horizon (30 min): suspected, alerting, not restarted
    expect(r.status).toBe('degraded');
    const f = r.findings[0]!;
    expect(f).toMatchObject({ check: 'memory_leaks', kind: 'memory_leak', subject: 'rss', unit: 'MB/min', threshold: 2, restart: false, diagnosis: 'leak' });
    expect(f.value as number).toBeGreaterThan(5.5);
    expect(f.value as number).toBeLessThan(6.5);
    // 412 MB of headroom at 6 MB/min: about 1h08m to the limit.
    expect(f.message).toMatch(/^qaa: resident memory \(RSS\) growing 6\.\d MB\/min \(R² (0\.9\d|1\.00)\) steadily for 1m00s \(min_growth_mb_per_min 2, window 60s\) — looks like a memory leak; at this rate it reaches max_memory_mb in 1h0[6-9]m \(restart_horizon 1800s: no restart yet\)$/);
    expect(r.measurements!.growth_bytes_per_second).toBeGreaterThan(0.09 * MiB);
  });

  it('passes flat memory with noise, and a cache that fills then plateaus', () => {
    const flat = feed(new MemoryLeakCheck(hc.memory_leaks, 5000, 512), target(T0), 120, (s) => 80 * MiB + noise(s));
    expect(flat.status).toBe('healthy');
    const cache = feed(new MemoryLeakCheck(hc.memory_leaks, 5000, 512), target(T0), 150, (s) => 80 * MiB + Math.min(s, 40) * 0.5 * MiB + noise(s));
    expect(cache.status).toBe('healthy');
  });

  it('starts the series again when the process restarts (warm-up again, no inherited trend)', () => {
    const check = new MemoryLeakCheck(hc.memory_leaks, 5000, 512);
    const leak = (s: number) => 100 * MiB + s * 0.2 * MiB + noise(s);
    expect(feed(check, target(T0), 90, leak).status).toBe('degraded');
    const restarted = target(T0 + 91_000, { incarnation: 'next' });
    // the leak of the old process stays on record (degraded, no restart) while the new one warms up ...
    const warming = feed(check, restarted, 3, (s) => 60 * MiB + noise(s), 91);
    expect(warming).toMatchObject({ status: 'degraded', summary: 'warming up (leaked before the restart)' });
    expect(warming.findings[0]).toMatchObject({ kind: 'memory_leak', restart: false });
    expect(warming.findings[0]!.message).toMatch(/^qaa: the previous process's resident memory \(RSS\) grew \d+\.\d MB\/min .* the new process is warming up/);
    expect(warming.measurements!.growth_bytes_per_second).toBe(0);
    // ... and clears once the new process is judged and does not leak
    expect(feed(check, restarted, 60, (s) => 60 * MiB + noise(s), 95)).toMatchObject({ status: 'healthy', findings: [] });
  });

  describe('restart_horizon: the action is proportional to the time left before max_memory_mb', () => {
    const cfg = (horizon: number) => ({ ...hc.memory_leaks, restart_horizon: horizon });
    // 12 MB/min from 100 MB with a 512 MB limit: about 30 min left once judged
    const leak = (s: number) => 100 * MiB + s * 0.2 * MiB + noise(s);

    it('only alerts (degraded) while the limit is further away than the horizon', () => {
      const r = feed(new MemoryLeakCheck(cfg(600), 5000, 512), target(T0), 120, leak);
      expect(r.status).toBe('degraded');
      expect(r.findings[0]).toMatchObject({ severity: 'degraded', restart: false });
    });

    it('asks for a restart after the current task once confirmed within the horizon, and not before', () => {
      const check = new MemoryLeakCheck(cfg(3600), 5000, 512);
      const t = target(T0);
      let suspectedAt: number | undefined;
      let restartAt: number | undefined;
      let r = feed(check, t, 0, leak);
      for (let s = 1; s <= 150 && restartAt === undefined; s++) {
        r = feed(check, t, 0, leak, s);
        if (r.status === 'degraded') suspectedAt ??= s;
        if (r.status === 'unhealthy') restartAt = s;
      }
      // suspected (degraded) first; a restart is asked for only after window / 5 = 12 s of unbroken suspicion
      expect(suspectedAt).toBeDefined();
      expect(restartAt! - suspectedAt!).toBeGreaterThanOrEqual(12);
      expect(r.findings[0]).toMatchObject({ severity: 'unhealthy', restart: true, restartAfterTask: true, diagnosis: 'leak' });
      expect(r.findings[0]!.message).toMatch(/under restart_horizon 3600s: restart once its current task is done$/);
    });

    it('restarts at once (leak_urgent) when the limit is under horizon / 6 away', () => {
      const r = feed(new MemoryLeakCheck(cfg(6 * 3600), 5000, 512), target(T0), 120, leak);
      expect(r.findings[0]).toMatchObject({ severity: 'unhealthy', restart: true, restartAfterTask: false, diagnosis: 'leak_urgent' });
      expect(r.findings[0]!.message).toMatch(/restart_horizon \/ 6 \(3600s\): restart now$/);
    });
  });

  it('watches heap after GC when the SDK reports it', () => {
    const check = new MemoryLeakCheck(hc.memory_leaks, 5000, 512);
    let heap = 20 * MiB;
    let last;
    for (let s = 0; s <= 90; s++) {
      heap += 0.1 * MiB;
      const t = target(T0, { heapAfterGcBytes: heap + noise(s) });
      const at = T0 + s * 1000;
      last = check.evaluate(t, context(at, { 4242: { cpu: 1, rss: 200 * MiB + noise(s), at } }));
    }
    expect(last!.findings.map((f) => f.subject)).toEqual(['heap']);
    expect(last!.findings[0]!.message).toContain('heap after GC growing');
  });

  it('judges a series at most once per window / 60, however often the check runs', () => {
    const check = new MemoryLeakCheck(hc.memory_leaks, 100, 512, 1000); // window 60 s: every 1 s
    const t = target(T0);
    const first = feed(check, t, 90, (s) => 100 * MiB + s * 0.2 * MiB + noise(s));
    const at = T0 + 90_500;
    check.observe([t], context(at, { 4242: { cpu: 1, rss: 400 * MiB, at } })); // a jump, sampled
    expect(check.evaluate(t, context(at, { 4242: { cpu: 1, rss: 400 * MiB, at } }))).toEqual(first);
  });
});
