import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectivityCheck, dependenciesOf, type Dependency } from '../../../src/health/connectivity.js';
import { bgConfig, context, refusedPort, target } from '../../helpers/health.js';

const T0 = 1_700_000_000_000;
const cfg = bgConfig({ monitoring: { health_checks: { connectivity: { timeout: 1 } } } }).monitoring.health_checks.connectivity;
let server: net.Server;
let open: string;
beforeAll(async () => {
  server = net.createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  open = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

describe('connectivity', () => {
  it('reads the dependencies of an agent: url, tcp:// url or address, with the smaller timeout', () => {
    const a = { ...target(T0).config, connectivity: [{ name: 'llm', url: 'https://api.example.com/v1', timeout: 5 }, { url: 'tcp://db:5432', timeout: 0.5 }, { address: 'cache:6379', timeout: 5 }] };
    expect(dependenciesOf(a, 1)).toEqual([
      { key: 'llm', kind: 'http', where: 'https://api.example.com/v1', timeoutMs: 1000 },
      { key: 'tcp://db:5432', kind: 'tcp', where: 'db:5432', timeoutMs: 500 },
      { key: 'cache:6379', kind: 'tcp', where: 'cache:6379', timeoutMs: 1000 },
    ]);
  });

  it('passes a reachable dependency and fails a refused loopback port: degraded once, unhealthy twice in a row, never a restart', async () => {
    const port = await refusedPort();
    const check = new ConnectivityCheck(cfg, 1000);
    const t = target(T0, { agentConfig: { connectivity: [{ address: open, timeout: 5 }, { name: 'llm-api', url: `tcp://127.0.0.1:${port}`, timeout: 5 }] } });
    const one = await check.evaluate(t, context(T0));
    expect(one.summary).toBe('1/2 reachable');
    expect(one.findings[0]).toMatchObject({ kind: 'dependency_unreachable', severity: 'degraded', dependency: 'llm-api', value: 'connection refused', restart: false });
    expect(one.findings[0]!.message).toBe(`qaa: cannot reach llm-api (127.0.0.1:${port}): connection refused (1 check(s) in a row, timeout 1s) — a network or dependency problem; restarting the agent will not fix it`);
    const two = await check.evaluate(t, context(T0 + 1000));
    expect(two.findings[0]).toMatchObject({ severity: 'unhealthy', since: T0 });
  });

  it('checks a dependency once per round however many replicas need it', async () => {
    let calls = 0;
    const check = new ConnectivityCheck(cfg, 10_000, async (_d: Dependency) => { calls++; return { ok: true, latencyMs: 1, detail: 'connected' }; });
    const conn = { connectivity: [{ address: open, timeout: 5 }] };
    await Promise.all([0, 1, 2].map((i) => check.evaluate(target(T0, { id: `qaa-${i}`, agentConfig: conn }), context(T0))));
    await check.evaluate(target(T0, { agentConfig: conn }), context(T0 + 4000));
    expect(calls).toBe(1);
    await check.evaluate(target(T0, { agentConfig: conn }), context(T0 + 5000));
    expect(calls).toBe(2);
  });

  it('counts what the agent reports, from its current process only, until the report is 10 rounds old', async () => {
    const check = new ConnectivityCheck(cfg, 1000);
    check.report('qaa-0', { target: 'llm-api', ok: false, error: 'HTTP 429' }, T0 - 5000); // before this process started
    const t = target(T0);
    expect((await check.evaluate(t, context(T0))).status).toBe('skipped');
    check.report('qaa-0', { target: 'llm-api', ok: false, error: 'HTTP 429' }, T0 + 100);
    const r = await check.evaluate(t, context(T0 + 200));
    expect(r.findings[0]).toMatchObject({ severity: 'degraded', dependency: 'llm-api', value: 'HTTP 429' });
    expect(r.findings[0]!.message).toBe('qaa: reports it cannot reach llm-api: HTTP 429 (1 report(s) in a row, last 100ms ago)');
    check.report('qaa-0', { target: 'llm-api', ok: false }, T0 + 300);
    expect((await check.evaluate(t, context(T0 + 400))).findings[0]!.severity).toBe('unhealthy');
    expect((await check.evaluate(t, context(T0 + 20_000))).status).toBe('skipped');
    check.report('qaa-0', { target: 'llm-api', ok: true }, T0 + 20_100);
    expect(await check.evaluate(t, context(T0 + 20_200))).toMatchObject({ status: 'healthy', summary: '1/1 reachable' });
  });
});
