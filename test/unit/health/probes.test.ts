import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execProbe } from '../../../src/health/probes/execProbe.js';
import { httpProbe } from '../../../src/health/probes/httpProbe.js';
import { probeFromSpec } from '../../../src/health/probes/Probe.js';
import { ProbeTracker } from '../../../src/health/probes/ProbeTracker.js';
import { splitHostPort, tcpProbe } from '../../../src/health/probes/tcpProbe.js';
import { refusedPort } from '../../helpers/health.js';

let server: http.Server;
let base: string;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2000);
    res.statusCode = req.url === '/down' ? 503 : req.url === '/moved' ? 302 : 200;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));

describe('probes', () => {
  it('http: judges the status (exactly expected_status for a probe; below 500 for reachability), without following redirects', async () => {
    const probe = probeFromSpec({ type: 'http', url: `${base}/ok`, expected_status: 200, period: 1, timeout: 1, failure_threshold: 1 });
    expect(await probe(5000)).toMatchObject({ ok: true, detail: 'HTTP 200' });
    expect(await httpProbe(`${base}/down`, 5000)).toMatchObject({ ok: false, detail: 'HTTP 503' });
    expect(await httpProbe(`${base}/moved`, 5000)).toMatchObject({ ok: true, detail: 'HTTP 302' });
    const strict = probeFromSpec({ type: 'http', url: `${base}/moved`, expected_status: 200, period: 1, timeout: 1, failure_threshold: 1 });
    expect((await strict(5000)).ok).toBe(false);
  });

  it('http: gives up after the timeout, and says a refused port is refused', async () => {
    const slow = await httpProbe(`${base}/slow`, 200);
    expect(slow).toMatchObject({ ok: false, detail: 'timed out after 0.2s' });
    expect(slow.latencyMs).toBeLessThan(1500);
    expect(await httpProbe(`http://127.0.0.1:${await refusedPort()}/`, 5000)).toMatchObject({ ok: false, detail: 'connection refused' });
  });

  it('tcp: connects, or reports a refused port', async () => {
    expect(await tcpProbe(base.slice('http://'.length), 5000)).toMatchObject({ ok: true, detail: 'connected' });
    expect(await tcpProbe(`127.0.0.1:${await refusedPort()}`, 5000)).toMatchObject({ ok: false, detail: 'connection refused' });
    expect(splitHostPort('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(() => splitHostPort('nope')).toThrow(/host:port/);
  });

  it('exec: exit code 0 is healthy; another code, a timeout (the group is killed) or a missing program is not', async () => {
    expect(await execProbe(['true'], 5000)).toMatchObject({ ok: true, detail: 'exit code 0' });
    expect(await execProbe(['sh', '-c', 'echo db down >&2; exit 3'], 5000)).toMatchObject({ ok: false, detail: 'exit code 3: db down' });
    const t0 = Date.now();
    expect(await execProbe(['sh', '-c', 'sleep 5 & sleep 5'], 300)).toMatchObject({ ok: false, detail: 'timed out after 0.3s' });
    expect(Date.now() - t0).toBeLessThan(2000);
    expect((await execProbe(['/nonexistent/probe'], 5000)).detail).toMatch(/could not run \/nonexistent\/probe/);
  });

  it('ProbeTracker runs at most once per period and counts failures in a row', async () => {
    const results = [false, false, true, false];
    let calls = 0;
    const tracker = new ProbeTracker(async () => ({ ok: results[calls++] as boolean, latencyMs: 1, detail: 'x' }), 10_000, 1000);
    expect((await tracker.poll(0)).failures).toBe(1);
    expect((await tracker.poll(9_999)).failures).toBe(1);
    expect(await tracker.poll(10_000)).toMatchObject({ failures: 2, failingSince: 0 });
    expect((await tracker.poll(20_000)).failures).toBe(0);
    expect(await tracker.poll(30_000)).toMatchObject({ failures: 1, failingSince: 30_000 });
    expect(calls).toBe(4);
  });
});
