/**
 * The alert webhook's answer time: how long Alertmanager waits for the answer to
 * one notification of 1, 100 and 1,000 alerts, and how long the in-process
 * recovery controller then takes to decide them all. A real supervisor (the built
 * CLI, HTTP on 127.0.0.1 only) runs 5 agents × 2 replicas of `sleep`; every alert
 * has a new fingerprint and names one of those replicas, so each takes the full
 * path (most end rate-limited: 6 restarts a minute, 300 s per replica). "All
 * decided" is when the newest decision id has grown by the number of alerts
 * (polled every 20 ms through `GET /api/v1/alerts/decisions?limit=1`).
 *
 *   npm run build && npx tsx bench/controller-webhook.ts [runs=20]
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import type { AlertmanagerAlert } from '../src/controller/alertmanagerPayload.js';
import { cleanup, startSupervisor, waitFor } from '../test/helpers/harness.js';

const RUNS = Math.max(1, Math.min(200, Number(process.argv[2] ?? 20)));
const SIZES = [1, 100, 1000];

const sup = await startSupervisor({ agents: Array.from({ length: 5 }, (_, i) => ({ name: `a${i}`, command: ['sleep', '3600'], replicas: 2 })) });
try {
  const url = new URL(sup.url);
  if (!['127.0.0.1', '[::1]', 'localhost'].includes(url.hostname)) throw new Error(`refusing to send load to ${url.hostname}: loopback only`);
  const token = readFileSync(path.join(sup.stateDir, 'webhook.token'), 'utf8').trim();
  const instance = url.host;
  /** The id of the newest decision (ids count up by one per decision). */
  const decidedSoFar = async () => (await sup.api<{ decisions: { id: number }[] }>('GET', '/api/v1/alerts/decisions?limit=1')).body.decisions[0]?.id ?? 0;

  let seq = 0;
  const alert = (i: number): AlertmanagerAlert => ({
    status: 'firing',
    labels: { alertname: 'AgentUnresponsive', severity: 'critical', action: 'restart', agent: `a${i % 5}`, role: `a${i % 5}`, replica: String(i % 2), instance, job: 'agentic', host: 'bench' },
    annotations: { summary: `Agent a${i % 5} replica a${i % 5}-${i % 2} is unresponsive`, runbook_url: 'docs/alerting.md#agentunresponsive' },
    startsAt: '2025-01-01T10:00:00.123456789Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=x',
    fingerprint: `f${(seq++).toString(16).padStart(15, '0')}`,
  });
  const body = (n: number) => JSON.stringify({
    version: '4', groupKey: '{}/{action="restart"}:{alertname="AgentUnresponsive"}', truncatedAlerts: 0, status: 'firing', receiver: 'recovery-controller',
    groupLabels: { alertname: 'AgentUnresponsive' }, commonLabels: { alertname: 'AgentUnresponsive', action: 'restart' }, commonAnnotations: {}, externalURL: 'http://127.0.0.1:9093',
    alerts: Array.from({ length: n }, (_, i) => alert(i)),
  });
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)] as number;

  console.log(`alert webhook of a real supervisor, ${RUNS} notifications per size, loopback, Node ${process.version}, load average ${loadavg()[0]?.toFixed(1)}`);
  for (const n of SIZES) {
    const answer: number[] = [];
    const decided: number[] = [];
    const statuses = new Set<string>();
    let bytes = 0;
    for (let r = 0; r < RUNS; r++) {
      const b = body(n);
      bytes = b.length;
      const before = await decidedSoFar();
      const t0 = performance.now();
      const res = await fetch(sup.url + '/api/v1/alerts', { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: b });
      const json = (await res.json()) as { status?: string; error?: string };
      answer.push(performance.now() - t0);
      statuses.add(`${res.status} ${json.status ?? json.error ?? '?'}`);
      await waitFor(`${n} decisions`, async () => (await decidedSoFar()) >= before + n, 60_000, 20);
      decided.push(performance.now() - t0);
    }
    console.log(`${String(n).padStart(5)} alerts (${(bytes / 1024).toFixed(0)} KiB): answer p50 ${pct(answer, 50).toFixed(1)} ms, p95 ${pct(answer, 95).toFixed(1)} ms, max ${Math.max(...answer).toFixed(1)} ms; all decided p50 ${pct(decided, 50).toFixed(1)} ms, p95 ${pct(decided, 95).toFixed(1)} ms; answered ${[...statuses].join(', ')}`);
  }
  console.log(`load average after: ${loadavg()[0]?.toFixed(1)}`);
  await sup.stop();
} finally {
  cleanup(sup);
}
