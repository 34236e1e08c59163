import { describe, expect, it } from 'vitest';
import { resolveTarget } from '../../../src/controller/SupervisorPort.js';
import { alert, FakePort, payload, rig } from './helpers.js';

const results = async (r: ReturnType<typeof rig>, ...alerts: ReturnType<typeof alert>[]) => (await r.controller.handle(payload(...alerts))).map((d) => d.result);

describe('RecoveryController: what it acts on', () => {
  it('restarts the replica a firing action="restart" alert names, with the alert name as cause', async () => {
    const r = rig();
    const [d] = await r.controller.handle(payload(alert()));
    await r.controller.idle();
    expect(d).toMatchObject({ result: 'acted', target: 'qaa-0', alertname: 'AgentUnresponsive', reason: 'restart requested for qaa-0' });
    expect(r.port.restarts).toEqual([{ slots: ['qaa-0'], alertname: 'AgentUnresponsive' }]);
    expect(r.metrics.actions).toEqual(['acted']);
    expect(r.metrics.decisions).toHaveLength(1);
    expect(r.logs.some((l) => l.obj.result === 'acted' && l.obj.fingerprint === 'a1b2c3d4e5f60718')).toBe(true);
  });

  it('skips resolved alerts and alerts whose action is not restart, with the reason, and restarts nothing', async () => {
    const r = rig();
    expect(await results(r,
      alert({ status: 'resolved', endsAt: '2025-01-01T10:10:00Z' }),
      alert({ fingerprint: 'b', labels: { action: 'page' } }),
      alert({ fingerprint: 'c', labels: { action: '' } }),
    )).toEqual(['skipped_resolved', 'skipped_not_restart', 'skipped_not_restart']);
    await r.controller.idle();
    expect(r.port.restarts).toEqual([]);
    expect(r.controller.recent(3).map((d) => d.reason)).toEqual([
      'action="": only action="restart" alerts are acted on',
      'action="page": only action="restart" alerts are acted on',
      'the alert is resolved',
    ]);
    expect(r.metrics.actions).toEqual(['skipped_resolved', 'skipped_not_restart', 'skipped_not_restart']);
  });

  it('skips an alert naming no known agent, or a per_task agent with no run going', async () => {
    const r = rig({ port: new FakePort([{ agent: 'deva_ts', replica: 'deva_ts', mode: 'per_task', state: 'running', concurrency: { replicas: [] } }]) });
    const ds = await r.controller.handle(payload(
      alert({ labels: { agent: 'ghost', replica: 'ghost-0' } }),
      alert({ fingerprint: 'p', labels: { agent: 'deva_ts', replica: '' } }),
      alert({ fingerprint: 'n', labels: { agent: '', replica: '' } }),
    ));
    expect(ds.map((d) => d.result)).toEqual(['skipped_unknown_agent', 'skipped_unknown_agent', 'skipped_unknown_agent']);
    expect(ds[0]?.reason).toMatch(/no agent or replica named ghost-0/);
    expect(ds[1]?.reason).toMatch(/runs one process per task and none is running: nothing to restart/);
    expect(ds[2]?.reason).toMatch(/neither an `agent` nor a `replica` label/);
  });

  it('resolves the labels the metrics export (agent="qaa", replica="1", the index) to slot qaa-1', async () => {
    const r = rig();
    const ds = await r.controller.handle(payload(alert({ labels: { agent: 'qaa', replica: '1' } })));
    await r.controller.idle();
    expect(ds[0]).toMatchObject({ result: 'acted', target: 'qaa-1' });
    expect(r.port.restarts).toEqual([{ slots: ['qaa-1'], alertname: 'AgentUnresponsive' }]);
    const [g] = await r.controller.handle(payload(alert({ fingerprint: 'g', labels: { agent: 'qaa', replica: '7' } })));
    expect(g?.reason).toMatch(/no agent or replica named qaa-7/);
  });

  it('restarts the per_task run an alert names by its slot index, and says why when that slot has no run', async () => {
    const perTask = rig({ port: new FakePort([{ agent: 'deva_ts', replica: 'deva_ts', mode: 'per_task', state: 'running', concurrency: { replicas: ['deva_ts-0', 'deva_ts-2'] } }]) });
    const [p] = await perTask.controller.handle(payload(alert({ labels: { agent: 'deva_ts', replica: '2', alertname: 'AgentTaskStuck' } })));
    await perTask.controller.idle();
    expect(p).toMatchObject({ result: 'acted', target: 'deva_ts-2' });
    expect(perTask.port.restarts).toEqual([{ slots: ['deva_ts-2'], alertname: 'AgentTaskStuck' }]);
    const [gone] = await perTask.controller.handle(payload(alert({ fingerprint: 'x', labels: { agent: 'deva_ts', replica: '1', alertname: 'AgentTaskStuck' } })));
    expect(gone).toMatchObject({ result: 'skipped_unknown_agent', target: 'deva_ts-1' });
    expect(gone?.reason).toMatch(/no run in deva_ts-1 now: the supervisor already ended it/);
  });

  it('restarts every closed-breaker replica of an agent when the alert names no replica', async () => {
    const r = rig({ port: new FakePort([
      { agent: 'qaa', replica: 'qaa-0', mode: 'service', state: 'running', breaker: 'closed' },
      { agent: 'qaa', replica: 'qaa-1', mode: 'service', state: 'circuit_open', breaker: 'open' },
      { agent: 'qaa', replica: 'qaa-2', mode: 'service', state: 'running', breaker: 'closed' },
    ]) });
    await r.controller.handle(payload(alert({ labels: { replica: '' } })));
    await r.controller.idle();
    expect(r.port.restarts).toEqual([{ slots: ['qaa-0', 'qaa-2'], alertname: 'AgentUnresponsive' }]);
  });
});

describe('RecoveryController: the circuit breaker', () => {
  it.each([
    ['open', 'circuit_open'],
    ['half_open', 'running'],
  ] as const)('leaves a replica whose breaker is %s alone', async (breaker, state) => {
    const r = rig({ port: new FakePort([{ agent: 'qaa', replica: 'qaa-0', mode: 'service', state, breaker }]) });
    const [d] = await r.controller.handle(payload(alert()));
    await r.controller.idle();
    expect(d?.result).toBe('skipped_circuit_open');
    expect(d?.reason).toContain(`qaa-0 breaker ${breaker}`);
    expect(r.port.restarts).toEqual([]);
  });

  it('leaves a replica that gave up (failed) alone, as a remote supervisor reports it', async () => {
    const r = rig({ port: new FakePort([{ agent: 'qaa', replica: 'qaa-0', mode: 'service', state: 'failed' }]) });
    expect(await results(r, alert())).toEqual(['skipped_circuit_open']);
  });

  it('acts on the same alert instance once its breaker has closed (a skip claims nothing)', async () => {
    const port = new FakePort([{ agent: 'qaa', replica: 'qaa-0', mode: 'service', state: 'circuit_open', breaker: 'open' }]);
    const r = rig({ port });
    expect(await results(r, alert())).toEqual(['skipped_circuit_open']);
    port.rows = [{ agent: 'qaa', replica: 'qaa-0', mode: 'service', state: 'running', breaker: 'closed' }];
    expect(await results(r, alert())).toEqual(['acted']);
  });
});

describe('RecoveryController: dedupe', () => {
  it('acts once on repeats and resends of one alert instance, and again when it fires anew', async () => {
    const r = rig();
    expect(await results(r, alert(), alert())).toEqual(['acted', 'duplicate']);
    expect(await results(r, alert())).toEqual(['duplicate']);
    expect(await results(r, alert({ startsAt: '2025-01-01T12:00:00Z' }))).toEqual(['acted']);
    await r.controller.idle();
    expect(r.port.restarts).toHaveLength(2);
  });

  it('acts once when two deliveries of one alert arrive at the same time (Alertmanager HA peers)', async () => {
    const r = rig();
    r.port.inspect = async (labels) => { await new Promise((res) => setTimeout(res, 20)); return resolveTarget(new FakePort().rows, labels, null); };
    const both = await Promise.all([r.controller.handle(payload(alert())), r.controller.handle(payload(alert()))]);
    expect(both.map(([d]) => d?.result).sort()).toEqual(['acted', 'duplicate']);
    await r.controller.idle();
    expect(r.port.restarts).toHaveLength(1);
  });

  it('remembers what it acted on across a controller restart (same state database)', async () => {
    const first = rig();
    expect(await results(first, alert())).toEqual(['acted']);
    await first.controller.idle();
    first.db.close();
    const second = rig({ file: first.file });
    expect(await results(second, alert())).toEqual(['duplicate']);
    await second.controller.idle();
    expect(second.port.restarts).toEqual([]);
    expect(second.controller.recent(5).map((d) => d.result)).toEqual(['duplicate', 'acted']);
  });

  it('lets a resend try again when the restart request failed, and records the failure', async () => {
    const r = rig();
    r.port.failNext = new Error('connection refused');
    expect(await results(r, alert())).toEqual(['acted']);
    await r.controller.idle();
    const [failed] = r.controller.recent(1);
    expect(failed).toMatchObject({ result: 'failed', reason: 'restart request for qaa-0 failed: connection refused' });
    expect(r.metrics.actions).toEqual(['failed']);
    expect(await results(r, alert())).toEqual(['acted']);
    await r.controller.idle();
    expect(r.port.restarts).toHaveLength(1);
  });

  it('records a target it cannot inspect as failed (transient), without claiming the alert', async () => {
    const port = new FakePort();
    port.inspect = () => { throw new Error('ECONNREFUSED'); };
    const r = rig({ port });
    expect(await results(r, alert())).toEqual(['failed']);
    expect(r.store.isClaimed('a1b2c3d4e5f60718@2025-01-01T10:00:00.123456789Z')).toBe(false);
  });
});

describe('RecoveryController: rate limits', () => {
  it('turns an alert storm into at most N restarts per minute, then lets more through as time passes', async () => {
    const r = rig({ maxPerMinute: 3 });
    r.port.rows = Array.from({ length: 20 }, (_, i) => ({ agent: `a${i}`, replica: `a${i}-0`, mode: 'service' as const, state: 'running', breaker: 'closed' as const }));
    const storm = Array.from({ length: 20 }, (_, i) => alert({ fingerprint: `f${i}`, labels: { agent: `a${i}`, replica: `a${i}-0` } }));
    const first = await results(r, ...storm);
    expect(first.filter((x) => x === 'acted')).toHaveLength(3);
    expect(first.filter((x) => x === 'skipped_rate_limited')).toHaveLength(17);
    // Alertmanager notifies again a minute later: the skipped ones were not claimed.
    r.clock.now += 60_000;
    const second = await results(r, ...storm);
    expect(second.filter((x) => x === 'acted')).toHaveLength(3);
    expect(second.filter((x) => x === 'duplicate')).toHaveLength(3);
    await r.controller.idle();
    expect(r.port.restarts).toHaveLength(6);
  });

  it('restarts one replica at most once per cooldown, even for different alerts, and remembers it across a restart', async () => {
    const clock = { now: Date.parse('2025-01-01T10:05:00Z') };
    const r = rig({ cooldown: 300, clock });
    expect(await results(r, alert(), alert({ fingerprint: 'other', labels: { alertname: 'AgentTaskStuck' } }))).toEqual(['acted', 'skipped_rate_limited']);
    expect(r.controller.recent(1)[0]?.reason).toMatch(/qaa-0 was restarted by an alert 0 s ago \(cooldown 300 s\)/);
    await r.controller.idle();
    r.db.close();
    clock.now += 120_000;
    const again = rig({ file: r.file, cooldown: 300, clock });
    expect(await results(again, alert({ fingerprint: 'other', labels: { alertname: 'AgentTaskStuck' } }))).toEqual(['skipped_rate_limited']);
    clock.now += 180_000;
    expect(await results(again, alert({ fingerprint: 'other', labels: { alertname: 'AgentTaskStuck' } }))).toEqual(['acted']);
  });
});
