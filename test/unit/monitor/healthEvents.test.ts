import { describe, expect, it } from 'vitest';
import { diffEvents, pushEvents } from '../../../src/cli/monitor/events.js';
import { deriveHealth, normaliseHealth } from '../../../src/cli/monitor/health.js';
import { normaliseServerEvents } from '../../../src/cli/monitor/serverEvents.js';
import { agent, NOW, status } from './fixtures.js';

describe('system health', () => {
  it('is healthy when every replica is up, degraded while one restarts, unhealthy when a role has none up', () => {
    expect(deriveHealth(status([agent({ agent: 'a' }), agent({ agent: 'b', state: 'idle' })])).verdict).toBe('healthy');
    const two = [agent({ agent: 'q', replica: 'q-0' }), agent({ agent: 'q', replica: 'q-1', state: 'backoff' })];
    expect(deriveHealth(status(two)).verdict).toBe('degraded');
    expect(deriveHealth(status([agent({ agent: 'q', state: 'circuit_open' }), agent({ agent: 'a' })])).verdict).toBe('unhealthy');
  });

  it('does not call a role stopped on purpose unhealthy', () => {
    expect(deriveHealth(status([agent({ agent: 'q', state: 'stopped' }), agent({ agent: 'a' })])).verdict).toBe('healthy');
  });

  it('reads the health endpoint whether agents come as a list or a map, by replica and by agent', () => {
    const list = normaliseHealth({ verdict: 'degraded', agents: [{ agent: 'qaa', replica: 'qaa-1', verdict: 'unhealthy', findings: [{ check: 'task_progress', severity: 'unhealthy', message: 'qaa-1: no progress for 3m12s' }] }] });
    expect(list?.verdict).toBe('degraded');
    expect(list?.agents.get('qaa-1')?.findings[0]?.message).toBe('no progress for 3m12s');
    const map = normaliseHealth({ system: { verdict: 'unhealthy' }, agents: { 'saa-0': { status: 'unhealthy', findings: [{ check: 'agent_response', text: 'missed 3 pings' }] } } });
    expect(map?.verdict).toBe('unhealthy');
    expect(map?.agents.get('saa-0')?.findings[0]).toEqual({ check: 'agent_response', severity: 'degraded', message: 'missed 3 pings' });
  });

  it('returns nothing for a body without a verdict (a 404, an error), so the monitor derives one', () => {
    expect(normaliseHealth({ error: 'not_found' })).toBeUndefined();
    expect(normaliseHealth('nope')).toBeUndefined();
  });
});

describe('recent events', () => {
  const before = status([agent({ agent: 'qaa', replica: 'qaa-0' }), agent({ agent: 'qaa', replica: 'qaa-1' })]);

  it('reports a crash with its scheduled restart, then the restart', () => {
    const exit = { at: new Date(NOW).toISOString(), code: null, signal: 'SIGKILL', reason: 'crash: killed by SIGKILL' };
    const backoff = status([before.agents[0]!, agent({ agent: 'qaa', replica: 'qaa-1', state: 'backoff', pid: null, restart_at: new Date(2026, 2, 14, 10, 42, 4).toISOString(), last_exit: exit })]);
    expect(diffEvents(before, backoff, undefined, undefined, NOW).map((e) => e.text)).toEqual(['qaa-1 exited (crash: killed by SIGKILL); restarting at 10:42:04']);
    const back = status([before.agents[0]!, agent({ agent: 'qaa', replica: 'qaa-1', pid: 777, restarts: 1, restarts_by_reason: { crash: 1 } })]);
    expect(diffEvents(backoff, back, undefined, undefined, NOW).map((e) => e.text)).toEqual(['qaa-1 restarted (crash), pid 777']);
  });

  it('reports an open circuit as an escalation and a new supervisor pid', () => {
    const open = status([before.agents[0]!, agent({ agent: 'qaa', replica: 'qaa-1', state: 'circuit_open', restart_at: new Date(2026, 2, 14, 10, 43, 0).toISOString() })], { supervisor: { pid: 99, started_at: '', version: '' } });
    const evs = diffEvents(before, open, undefined, undefined, NOW);
    expect(evs.map((e) => [e.kind, e.text])).toEqual([
      ['escalation', 'qaa-1 circuit open until 10:43:00 (exited)'],
      ['connection', 'supervisor restarted (pid 4242 → 99)'],
    ]);
  });

  it('reports replicas added and removed while the supervisor runs (a scale, a reload), not across a supervisor restart', () => {
    const next = status([before.agents[0]!, agent({ agent: 'poa', replica: 'poa-0' }), agent({ agent: 'saa', replica: 'saa-0', state: 'stopped', pid: null })]);
    expect(diffEvents(before, next, undefined, undefined, NOW).map((e) => [e.kind, e.text])).toEqual([['state', 'poa-0 added'], ['state', 'saa-0 added (stopped)'], ['state', 'qaa-1 removed']]);
    const restarted = status(next.agents, { supervisor: { pid: 99, started_at: '', version: '' } });
    expect(diffEvents(before, restarted, undefined, undefined, NOW).map((e) => e.kind)).toEqual(['connection']);
  });

  it('reports a finding when the health endpoint turns a replica unhealthy', () => {
    const h0 = normaliseHealth({ verdict: 'healthy', agents: [{ replica: 'qaa-1', verdict: 'healthy', findings: [] }] });
    const h1 = normaliseHealth({ verdict: 'degraded', agents: [{ replica: 'qaa-1', verdict: 'unhealthy', findings: [{ check: 'agent_response', message: 'missed 3 pings' }] }] });
    expect(diffEvents(before, before, h0, h1, NOW).map((e) => e.text)).toEqual(['qaa-1 unhealthy: missed 3 pings']);
  });

  it('keeps the newest events first and at most 50', () => {
    let list = pushEvents([], [{ at: 1, kind: 'state', agent: null, text: 'a', tone: 'dim' }, { at: 2, kind: 'state', agent: null, text: 'b', tone: 'dim' }]);
    expect(list.map((e) => e.text)).toEqual(['b', 'a']);
    for (let i = 0; i < 60; i++) list = pushEvents(list, [{ at: i, kind: 'state', agent: null, text: String(i), tone: 'dim' }]);
    expect(list).toHaveLength(50);
    expect(list[0]?.text).toBe('59');
  });

  it('reads the supervisor event log when it serves one, oldest first', () => {
    const evs = normaliseServerEvents({ events: [
      { id: 2, at: NOW, agent: 'qaa-1', kind: 'escalation', detail: { reason: 'circuit_open' } },
      { id: 1, at: NOW - 5000, agent: 'qaa-1', kind: 'exit', detail: { reason: 'crash', signal: 'SIGKILL', code: null } },
      { bogus: true },
    ] });
    expect(evs.map((e) => [e.kind, e.text])).toEqual([
      ['restart', 'qaa-1 exited (crash)'],
      ['escalation', 'qaa-1 circuit open'],
    ]);
  });

  it('renders what the supervisor stores: exits, escalations, verdict changes, its own starts', () => {
    const evs = normaliseServerEvents({ events: [
      { id: 5, at: new Date(NOW).toISOString(), agent: null, replica: null, kind: 'supervisor', detail: { message: 'started (pid 42)', pid: 42 } },
      { id: 4, at: new Date(NOW - 1000).toISOString(), agent: 'qaa', replica: 'qaa-1', kind: 'finding', detail: { verdict: 'unhealthy', previous: 'healthy', check: 'agent_response', message: 'unhealthy: no heartbeat for 31s' } },
      { id: 3, at: new Date(NOW - 2000).toISOString(), agent: 'qaa', replica: 'qaa-1', kind: 'escalation', detail: { reason: 'restarts_exhausted', detail: '5 restarts in 300s' } },
      { id: 2, at: new Date(NOW - 3000).toISOString(), agent: 'qaa', replica: 'qaa-0', kind: 'exit', detail: { at: NOW - 3000, code: 1, signal: null, reason: 'crash: exit code 1' } },
    ] });
    expect(evs.map((e) => [e.tone, e.text])).toEqual([
      ['warn', 'qaa-0 exited (crash: exit code 1)'],
      ['bad', 'qaa-1 failed: restarts exhausted (5 restarts in 300s)'],
      ['bad', 'qaa-1 unhealthy: no heartbeat for 31s'],
      ['dim', 'supervisor started (pid 42)'],
    ]);
  });
});
