import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { HealthChecker } from '../../../src/health/HealthChecker.js';
import { HeartbeatWatch } from '../../../src/health/HeartbeatWatch.js';
import { targetOf, targetsOf, type Target } from '../../../src/health/Target.js';
import { bgConfig, FakeSource, memoryLogger, target } from '../../helpers/health.js';

const T0 = 1_700_000_000_000;

describe('HeartbeatWatch', () => {
  beforeEach(() => { vi.useFakeTimers({ now: T0 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('reports a silence when heartbeat_miss_multiplier × heartbeat_interval runs out, once, and again after heartbeats resume', async () => {
    let t: Target = target(T0, { agentConfig: { heartbeat_interval: 2 } });
    const due: number[] = [];
    const watch = new HeartbeatWatch({ multiplier: 3, targets: () => [t], onDue: (_x, dueAt) => due.push(dueAt - T0) });
    watch.sync();
    // heartbeats every 2 s until 10 s: the deadline keeps moving
    for (let s = 2; s <= 10; s += 2) {
      await vi.advanceTimersByTimeAsync(2000);
      t = { ...t, lastHeartbeatAt: T0 + s * 1000 };
    }
    expect(due).toEqual([]);
    // silent from 10 s: due at 10 + 6 = 16 s, not at the next check round
    await vi.advanceTimersByTimeAsync(5990);
    expect(due).toEqual([]);
    await vi.advanceTimersByTimeAsync(20);
    expect(due).toEqual([16_000]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(due).toEqual([16_000]); // once per silence
    t = { ...t, lastHeartbeatAt: Date.now() };
    const back = Date.now() - T0;
    watch.sync();
    await vi.advanceTimersByTimeAsync(6010);
    expect(due).toEqual([16_000, back + 6000]);
    watch.stop();
  });

  it('watches only running protocol agents, and forgets a target that is gone', async () => {
    const plain = target(T0, { id: 'plain-0', protocol: false });
    let targets: Target[] = [plain, target(T0)];
    const due: string[] = [];
    const watch = new HeartbeatWatch({ multiplier: 3, targets: () => targets, onDue: (x) => due.push(x.id) });
    watch.sync();
    targets = [plain];
    watch.sync();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(due).toEqual([]);
  });

  it('looks up only the target whose timer fired, through `target(id)`: never the whole fleet', async () => {
    let a = target(T0, { id: 'a-0', agentConfig: { heartbeat_interval: 1 } });
    const b = target(T0, { id: 'b-0', agentConfig: { heartbeat_interval: 1 } });
    const looked: string[] = [];
    let fleet = 0;
    const due: string[] = [];
    const watch = new HeartbeatWatch({
      multiplier: 3,
      targets: () => { fleet++; return [a, b]; },
      target: (id) => { looked.push(id); return id === a.id ? a : id === b.id ? b : undefined; },
      onDue: (x) => due.push(x.id),
    });
    watch.sync();
    expect(fleet).toBe(1);
    // a keeps beating, b is silent: each timer fires every budget (3 s) and looks up its own target
    for (let s = 1; s <= 9; s++) {
      await vi.advanceTimersByTimeAsync(1000);
      a = { ...a, lastHeartbeatAt: T0 + s * 1000 };
    }
    expect(fleet).toBe(1);
    expect(new Set(looked)).toEqual(new Set(['a-0', 'b-0']));
    expect(looked.filter((x) => x === 'a-0').length).toBeGreaterThanOrEqual(2); // re-armed, not reported
    expect(due).toEqual(['b-0']);
    watch.stop();
  });
});

describe('targetOf', () => {
  it('builds the same target as targetsOf, for that id only', () => {
    const src = new FakeSource(bgConfig({ agents: [{ name: 'qaa', command: ['x'], replicas: 3 }, { name: 'saa', command: ['x'] }] }));
    const strip = (t: Target | undefined) => t && { ...t, ping: undefined, heartbeatAt: undefined };
    for (const t of targetsOf(src)) expect(strip(targetOf(src, t.id))).toEqual(strip(t));
    expect(targetOf(src, 'qaa-1')?.id).toBe('qaa-1');
    expect(targetOf(src, 'nobody-0')).toBeUndefined();
  });
});

describe('HealthChecker with a heartbeat budget shorter than its rounds', () => {
  beforeEach(() => { vi.useFakeTimers({ now: T0 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('is unhealthy when the budget runs out, not a check_interval or a ping timeout later, and restarts it', async () => {
    // check_interval 30 s, ping timeout 10 s, budget 3 × 2 s = 6 s
    const bg = bgConfig({ agents: [{ name: 'qaa', command: ['x'], heartbeat_interval: 2 }], monitoring: { check_interval: 30, sample_interval: 5 } });
    const src = new FakeSource(bg);
    for (const r of src.replicas) r.start();
    const restarts: string[] = [];
    const checker = new HealthChecker({ bg, source: src, logger: memoryLogger(), procState: () => 'S', restart: async (t, f) => { restarts.push(`${t.id} ${f.kind}`); } });
    await vi.advanceTimersByTimeAsync(0);
    src.hello('qaa-0');
    checker.start();
    const beat = () => src.proc('qaa-0').emit('message', { type: 'heartbeat', ts: Date.now() } as never);
    for (let s = 0; s < 10; s += 2) { beat(); await vi.advanceTimersByTimeAsync(2000); }
    beat();
    const silentAt = Date.now();
    // (the fake process never answers pings: a missed pong is degraded, not unhealthy)
    expect(checker.targets()[0]!.verdict).not.toBe('unhealthy');
    await vi.advanceTimersByTimeAsync(5900);
    expect(checker.targets()[0]!.verdict).not.toBe('unhealthy');
    await vi.advanceTimersByTimeAsync(200);
    const h = checker.targets()[0]!;
    expect(h.verdict).toBe('unhealthy');
    const f = h.findings.find((x) => x.severity === 'unhealthy')!;
    expect(Date.now() - silentAt).toBeLessThan(6200); // well before the next round (30 s) or ping timeout (10 s)
    expect(f.message).toMatch(/^qaa: no heartbeat for 6\.0s \(heartbeat_miss_multiplier 3 × heartbeat_interval 2s = 6s\)/);
    // (its earlier ping went unanswered too: the silence reads as a blocked event loop)
    expect(restarts).toEqual(['qaa-0 ping_timeout']);
    expect(f.diagnosis).toBe('blocked_event_loop');
    const stopping = checker.stop(); // waits for the confirming ping round (10 s timeout)
    await vi.advanceTimersByTimeAsync(11_000);
    await stopping;
  });
});
