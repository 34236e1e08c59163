import { describe, expect, it } from 'vitest';
import { AgentResponseCheck } from '../../../src/health/agentResponse.js';
import { CrashMemory } from '../../../src/health/CrashMemory.js';
import type { ProbeResult } from '../../../src/health/probes/Probe.js';
import { bgConfig, context, target } from '../../helpers/health.js';

const T0 = 1_700_000_000_000;
const cfg = bgConfig({ monitoring: { health_checks: { agent_response: { timeout: 2, max_failures: 3, heartbeat_miss_multiplier: 3 } } } }).monitoring.health_checks.agent_response;
const make = (probeResults: ProbeResult[] = []) => new AgentResponseCheck({
  cfg, idleCpuPercent: 1, intervalMs: 10_000,
  probeFor: () => async () => probeResults.shift() ?? { ok: true, latencyMs: 1, detail: 'HTTP 200' },
});
const noPong = async () => { throw new Error('no pong within 2000 ms'); };

describe('agent_response', () => {
  it('passes an agent that answers pings and heartbeats on time', async () => {
    const r = await make().evaluate(target(T0, { lastHeartbeatAt: T0 + 9000 }), context(T0 + 10_000));
    expect(r).toMatchObject({ status: 'healthy', summary: 'pong 1.5 ms, heartbeat 1.0s ago', measurements: { response_seconds: 0.0015 } });
  });

  it('is degraded after one missed pong and unhealthy after max_failures in a row, naming a stopped process', async () => {
    const check = make();
    const procs = { 4242: { state: 'T', cpu: 0 } };
    const t = target(T0, { ping: noPong, lastHeartbeatAt: T0 });
    const first = await check.evaluate(t, context(T0 + 1000, procs));
    expect(first.findings[0]).toMatchObject({ severity: 'degraded', value: 1, threshold: 3, kind: 'process_stopped', restart: false });
    await check.evaluate(t, context(T0 + 2000, procs));
    const third = await check.evaluate(t, context(T0 + 3000, procs));
    expect(third.status).toBe('unhealthy');
    expect(third.findings[0]).toMatchObject({ severity: 'unhealthy', value: 3, since: T0 + 1000, diagnosis: 'stopped', restart: true });
    expect(third.findings[0]!.message).toBe('qaa: 3 ping(s) in a row unanswered within 2s (max_failures 3); process state T (stopped, e.g. by SIGSTOP or a debugger) — it cannot run until it gets SIGCONT');
  });

  it('starts counting again after a pong, and again for a new process (restart)', async () => {
    const check = make();
    const t = target(T0, { ping: noPong });
    await check.evaluate(t, context(T0 + 1000, { 4242: { cpu: 0 } }));
    await check.evaluate(t, context(T0 + 2000, { 4242: { cpu: 0 } }));
    expect((await check.evaluate(target(T0, { lastHeartbeatAt: T0 + 2500 }), context(T0 + 3000))).status).toBe('healthy');
    const again = await check.evaluate(t, context(T0 + 3500, { 4242: { cpu: 0 } }));
    expect(again.findings[0]!.value).toBe(1);
    const restarted = await check.evaluate(target(T0 + 4000, { ping: noPong, incarnation: 'new' }), context(T0 + 4000, { 4242: { cpu: 0 } }));
    expect(restarted.findings[0]!.value).toBe(1);
  });

  it('makes overdue heartbeats unhealthy at once (heartbeat_miss_multiplier × heartbeat_interval), with a blocked event loop diagnosis', async () => {
    const t = target(T0, { ping: noPong, lastHeartbeatAt: T0, agentConfig: { heartbeat_interval: 5 } });
    const r = await make().evaluate(t, context(T0 + 15_001, { 4242: { state: 'R', cpu: 100 } }));
    expect(r.findings[0]).toMatchObject({ severity: 'unhealthy', diagnosis: 'blocked_event_loop', restart: true });
    expect(r.findings[0]!.message).toMatch(/^qaa: no heartbeat for 15s \(heartbeat_miss_multiplier 3 × heartbeat_interval 5s = 15s\) and 1 ping\(s\) in a row unanswered within 2s \(max_failures 3\); no heartbeats or pongs for 15s; process state R, CPU 100\.0% — its event loop is blocked by busy synchronous code/);
  });

  it('reports heartbeats missing while pings are answered as a stopped heartbeat timer', async () => {
    const r = await make().evaluate(target(T0, { lastHeartbeatAt: T0 }), context(T0 + 20_000));
    expect(r.findings[0]).toMatchObject({ kind: 'heartbeat_missing', value: 20, threshold: 15, unit: 's', severity: 'unhealthy' });
  });

  it('probes a plain command kubelet-style: failure_threshold failures in a row, at most once per period', async () => {
    const refused = { ok: false, latencyMs: 0.4, detail: 'connection refused' };
    const check = make([refused, refused, refused]);
    const t = target(T0, { protocol: false, ping: undefined, agentConfig: { probe: { type: 'tcp', address: '127.0.0.1:1', expected_status: 200, period: 10, timeout: 2, failure_threshold: 2 } } });
    const one = await check.evaluate(t, context(T0, { 4242: { cpu: 0 } }));
    expect(one.findings[0]).toMatchObject({ kind: 'probe_failed', severity: 'degraded', value: 1, threshold: 2 });
    const sameRound = await check.evaluate(t, context(T0 + 5000, { 4242: { cpu: 0 } }));
    expect(sameRound.findings[0]!.value).toBe(1); // the period has not passed: no new probe
    const two = await check.evaluate(t, context(T0 + 10_000, { 4242: { cpu: 0 } }));
    expect(two.findings[0]).toMatchObject({ severity: 'unhealthy', value: 2, since: T0, restart: true });
    expect(two.findings[0]!.message).toContain('qaa: tcp probe failed 2 time(s) in a row (failure_threshold 2): connection refused');
  });

  it('reports a replica that is not running: restarting (degraded), breaker open or given up (unhealthy)', async () => {
    const lastExit = { at: T0, code: 1, signal: null, reason: 'crash: exited with code 1' };
    const backoff = await make().evaluate(target(T0, { state: 'backoff', pid: undefined, lastExit, restartAt: T0 + 2000 }), context(T0 + 500));
    expect(backoff.findings[0]).toMatchObject({ kind: 'not_running', severity: 'degraded', restart: false });
    expect(backoff.findings[0]!.message).toBe('qaa: not running (last exit: crash: exited with code 1); the restart policy starts it again in 1.5s');
    const open = await make().evaluate(target(T0, { state: 'circuit_open', pid: undefined, lastExit, restartAt: T0 + 60_000 }), context(T0));
    expect(open.findings[0]).toMatchObject({ severity: 'unhealthy', diagnosis: 'circuit_open' });
    const failed = await make().evaluate(target(T0, { state: 'failed', pid: undefined, lastExit }), context(T0));
    expect(failed.findings[0]!.message).toContain('background reset qaa');
    expect((await make().evaluate(target(T0, { state: 'starting' }), context(T0))).status).toBe('skipped');
  });

  it('counts rounds a plain command spends stopped (state T) as failures', async () => {
    const check = make();
    const t = target(T0, { protocol: false, ping: undefined });
    const procs = { 4242: { state: 'T', cpu: 0 } };
    for (let i = 1; i < 3; i++) expect((await check.evaluate(t, context(T0 + i, procs))).status).toBe('degraded');
    expect((await check.evaluate(t, context(T0 + 3, procs))).findings[0]).toMatchObject({ kind: 'process_stopped', severity: 'unhealthy' });
    expect((await check.evaluate(t, context(T0 + 4, { 4242: { state: 'S', cpu: 0 } }))).status).toBe('healthy');
  });

  it('keeps a replica restarted at once after a crash degraded until it has run for stable_uptime', async () => {
    const crashes = new CrashMemory(300_000);
    const check = new AgentResponseCheck({ cfg, idleCpuPercent: 1, intervalMs: 10_000, crashes });
    crashes.record('qaa-0', 'manual restart', T0 - 10); // not a crash
    expect((await check.evaluate(target(T0), context(T0 + 1000))).status).toBe('healthy');
    crashes.record('qaa-0', 'crash: exited with code 1', T0 - 5);
    const r = await check.evaluate(target(T0, { lastHeartbeatAt: T0 + 900 }), context(T0 + 1000));
    expect(r.status).toBe('degraded');
    expect(r.summary).toBe('pong 1.5 ms, heartbeat 100ms ago; restarted after a crash');
    expect(r.findings).toHaveLength(1);
    expect(r.findings[0]).toMatchObject({ kind: 'recent_crash', severity: 'degraded', since: T0 - 5, restart: false, diagnosis: 'crashed' });
    expect(r.findings[0]!.message).toBe('qaa: crashed 1.0s ago (crash: exited with code 1) and was restarted; it counts as recovered once it has run for stable_uptime 300s');
    expect((await check.evaluate(target(T0, { lastHeartbeatAt: T0 + 300_000 }), context(T0 + 300_000))).status).toBe('healthy');
  });

  it('does not call a silent agent idle from a CPU sample taken before it went silent', async () => {
    const t = target(T0, { ping: noPong, lastHeartbeatAt: T0 + 1000 });
    const stale = { ...context(T0 + 3000, { 4242: { state: 'R', cpu: 0.1, at: T0 + 1200 } }), sampleIntervalMs: 500 };
    const r1 = await make().evaluate(t, stale);
    expect(r1.findings[0]!.message).toContain('process state R, CPU not measured yet — its event loop is blocked');
    const fresh = { ...context(T0 + 3000, { 4242: { state: 'R', cpu: 97, at: T0 + 2900 } }), sampleIntervalMs: 500 };
    expect((await make().evaluate(t, fresh)).findings[0]!.message).toContain('CPU 97.0% — its event loop is blocked by busy synchronous code');
  });
});
