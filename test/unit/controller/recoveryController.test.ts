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
    expect(r.controller.recent(1)[0]?.reason).toMatch(/^qaa-0 was restarted by an alert 0 s ago; the cooldown between alert restarts of one replica is 300 s, so the next is possible in 300 s$/);
    await r.controller.idle();
    r.db.close();
    clock.now += 120_000;
    const again = rig({ file: r.file, cooldown: 300, clock });
    expect(await results(again, alert({ fingerprint: 'other', labels: { alertname: 'AgentTaskStuck' } }))).toEqual(['skipped_rate_limited']);
    clock.now += 180_000;
    expect(await results(again, alert({ fingerprint: 'other', labels: { alertname: 'AgentTaskStuck' } }))).toEqual(['acted']);
  });

  it('keys the cooldown by the replica restarted: an agent alert for qaa and a replica alert for qaa-0 restart it once', async () => {
    const one = () => new FakePort([{ agent: 'qaa', replica: 'qaa-0', mode: 'service', state: 'running', breaker: 'closed' }]);
    const agentFirst = rig({ cooldown: 300, port: one() });
    expect(await results(agentFirst, alert({ labels: { replica: '' } }))).toEqual(['acted']);
    expect(await results(agentFirst,
      alert({ fingerprint: 'slot', labels: { alertname: 'AgentTaskStuck', replica: 'qaa-0' } }),
      alert({ fingerprint: 'index', labels: { alertname: 'AgentTaskStuck', replica: '0' } }),
    )).toEqual(['skipped_rate_limited', 'skipped_rate_limited']);
    const replicaFirst = rig({ cooldown: 300, port: one() });
    expect(await results(replicaFirst, alert({ labels: { replica: '0' } }), alert({ fingerprint: 'agent', labels: { alertname: 'AgentTaskStuck', replica: '' } }))).toEqual(['acted', 'skipped_rate_limited']);
    expect(replicaFirst.controller.recent(1)[0]).toMatchObject({ target: 'qaa', reason: expect.stringMatching(/^qaa-0 was restarted by an alert 0 s ago/) });
    await Promise.all([agentFirst.controller.idle(), replicaFirst.controller.idle()]);
    expect(agentFirst.port.restarts).toHaveLength(1);
    expect(replicaFirst.port.restarts).toHaveLength(1);
  });

  it('restarts only the replicas of an agent alert that are out of their cooldown', async () => {
    const r = rig({ cooldown: 300 });
    expect(await results(r, alert())).toEqual(['acted']);
    r.clock.now += 10_000;
    const [d] = await r.controller.handle(payload(alert({ fingerprint: 'agent', labels: { alertname: 'AgentTaskStuck', replica: '' } })));
    expect(d).toMatchObject({ result: 'acted', target: 'qaa', reason: 'restart requested for qaa-1 (qaa-0 was restarted by an alert 10 s ago, within the 300 s cooldown)' });
    await r.controller.idle();
    expect(r.port.restarts.map((x) => x.slots)).toEqual([['qaa-0'], ['qaa-1']]);
  });

  it('keeps cooldowns apart for same-named replicas of different supervisors (standalone)', async () => {
    class Remote extends FakePort {
      override inspect(labels: Readonly<Record<string, string>>) { return resolveTarget(this.rows, labels, `http://${labels.instance ?? ''}`); }
    }
    const r = rig({ cooldown: 300, port: new Remote() });
    expect(await results(r,
      alert({ labels: { instance: '10.0.0.5:9464' } }),
      alert({ fingerprint: 'b', labels: { instance: '10.0.0.6:9464' } }),
      alert({ fingerprint: 'c', labels: { instance: '10.0.0.5:9464', replica: '' } }),
    )).toEqual(['acted', 'acted', 'acted']);
    expect(r.controller.recent(1)[0]?.reason).toBe('restart requested for qaa-1 (qaa-0 was restarted by an alert 0 s ago, within the 300 s cooldown)');
    expect(await results(r, alert({ fingerprint: 'd', labels: { instance: '10.0.0.6:9464', replica: 'qaa-0' } }))).toEqual(['skipped_rate_limited']);
  });

  it('keeps a cooldown through a flood of over 1,000 other decisions and a restart of the supervisor', async () => {
    const clock = { now: Date.parse('2025-01-01T10:05:00Z') };
    const r = rig({ cooldown: 300, clock });
    expect(await results(r, alert())).toEqual(['acted']);
    await r.controller.idle();
    for (let batch = 0; batch < 2; batch++) {
      const flood = Array.from({ length: 600 }, (_, i) => alert({ fingerprint: `flood-${batch}-${i}`, labels: { action: 'page' } }));
      await r.controller.handle(payload(...flood));
    }
    expect(r.controller.recent(1000).some((d) => d.result === 'acted')).toBe(false); // the history no longer holds the restart
    expect(await results(r, alert({ fingerprint: 'same-process', labels: { alertname: 'AgentTaskStuck' } }))).toEqual(['skipped_rate_limited']);
    r.db.close();
    clock.now += 120_000;
    const restarted = rig({ file: r.file, cooldown: 300, clock });
    expect(await results(restarted, alert({ fingerprint: 'after-restart', labels: { alertname: 'AgentTaskStuck' } }))).toEqual(['skipped_rate_limited']);
    expect(restarted.controller.recent(1)[0]?.reason).toMatch(/^qaa-0 was restarted by an alert 120 s ago/);
    clock.now += 180_000;
    expect(await results(restarted, alert({ fingerprint: 'after-cooldown', labels: { alertname: 'AgentTaskStuck' } }))).toEqual(['acted']);
  });

  it('gives the cooldown back when the restart request failed, so a resend can restart', async () => {
    const r = rig({ cooldown: 300 });
    r.port.failNext = new Error('connection refused');
    expect(await results(r, alert())).toEqual(['acted']);
    await r.controller.idle();
    expect(await results(r, alert({ fingerprint: 'again' }))).toEqual(['acted']);
    await r.controller.idle();
    expect(r.port.restarts).toHaveLength(1);
  });
});

describe('RecoveryController: the target of a decision', () => {
  it('names the replica slot (qaa-1), not the index, for every result', async () => {
    const r = rig();
    const ds = await r.controller.handle(payload(
      alert({ status: 'resolved', endsAt: '2025-01-01T10:10:00Z', labels: { replica: '1' } }),
      alert({ fingerprint: 'page', labels: { action: 'page', replica: '1' } }),
      alert({ fingerprint: 'acted', labels: { replica: '1' } }),
      alert({ fingerprint: 'acted', labels: { replica: '1' } }),
      alert({ fingerprint: 'agent-only', labels: { action: 'none', replica: '' } }),
    ));
    expect(ds.map((d) => [d.result, d.target])).toEqual([
      ['skipped_resolved', 'qaa-1'], ['skipped_not_restart', 'qaa-1'], ['acted', 'qaa-1'], ['duplicate', 'qaa-1'], ['skipped_not_restart', 'qaa'],
    ]);
  });
});

describe('RecoveryController: what it accepted is decided, even after a crash', () => {
  it('decides after a restart the alerts it accepted and had not decided yet', async () => {
    const first = rig();
    expect(first.controller.accept(payload(alert(), alert({ fingerprint: 'page', labels: { action: 'page' } })))).toEqual({ alerts: 2, queued: 1 });
    first.controller.stop(); // the process dies before the queue is decided
    await first.controller.idle();
    expect(first.controller.recent().map((d) => d.result)).toEqual(['skipped_not_restart']);
    first.db.close();
    const second = rig({ file: first.file });
    second.controller.resume();
    await second.controller.idle();
    expect(second.controller.recent().map((d) => [d.result, d.target])).toEqual([['acted', 'qaa-0'], ['skipped_not_restart', 'qaa-0']]);
    expect(second.port.restarts).toEqual([{ slots: ['qaa-0'], alertname: 'AgentUnresponsive' }]);
  });

  it('refuses a notification that would queue more than 10,000 undecided alerts, and keeps what it has', async () => {
    const r = rig();
    r.controller.stop();
    for (let b = 0; b < 10; b++) r.controller.accept(payload(...Array.from({ length: 1000 }, (_, i) => alert({ fingerprint: `b${b}-${i}` }))));
    expect(() => r.controller.accept(payload(alert({ fingerprint: 'one-more' })))).toThrow(/^10000 alerts are waiting to be decided and this notification has 1, over the limit of 10000: retry later$/);
    expect(r.store.inbox.size()).toBe(10_000);
  });
});

