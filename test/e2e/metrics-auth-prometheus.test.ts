import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { startPrometheus, type RealPrometheus } from '../helpers/realPrometheus.js';

/**
 * `background.server.metrics_auth` against Debian's real Prometheus: a scrape job
 * with `basic_auth` (the same password_file) gets in, one without it does not.
 * A missing prometheus binary is a failure, never a skip.
 */
describe('/metrics behind basic auth, scraped by a real Prometheus', () => {
  let sup: RunningSupervisor;
  let prom: RealPrometheus;
  const dir = mkdtempSync(path.join(tmpdir(), 'agentic-metrics-auth-'));
  const pwFile = path.join(dir, 'metrics.password');

  beforeAll(async () => {
    writeFileSync(pwFile, 'prometheus-scrape-secret-0123\n', { mode: 0o600 });
    sup = await startSupervisor({ server: { port: 0, metrics_auth: { username: 'prometheus', password_file: pwFile } }, agents: [{ name: 'sleeper', command: ['sleep', '600'], stop_timeout: 1 }] });
    const target = new URL(sup.url).host;
    prom = await startPrometheus({
      global: { scrape_interval: '1s', scrape_timeout: '900ms' },
      scrape_configs: [
        { job_name: 'with-auth', static_configs: [{ targets: [target] }], basic_auth: { username: 'prometheus', password_file: pwFile } },
        { job_name: 'wrong-password', static_configs: [{ targets: [target] }], basic_auth: { username: 'prometheus', password: 'not-the-password' } },
        { job_name: 'no-auth', static_configs: [{ targets: [target] }] },
      ],
    });
  });
  afterAll(async () => {
    await prom?.stop();
    cleanup(sup);
    rmSync(dir, { recursive: true, force: true });
  });

  const value = async (expr: string): Promise<string | undefined> => {
    const r = await prom.query(expr);
    return (r.data?.result[0] as { value?: [number, string] } | undefined)?.value?.[1];
  };

  it('scrapes with basic_auth (up == 1) and the supervisor\'s series arrive', async () => {
    await waitFor('up{job="with-auth"} == 1', async () => (await value('up{job="with-auth"}')) === '1', 60_000, 500);
    await waitFor('agentic_agent_up from the authenticated job', async () => (await value('agentic_agent_up{job="with-auth",agent="sleeper"}')) === '1', 60_000, 500);
  });

  it('fails to scrape without credentials or with a wrong password (up == 0), and gets no series', async () => {
    await waitFor('up{job="no-auth"} == 0', async () => (await value('up{job="no-auth"}')) === '0', 60_000, 500);
    await waitFor('up{job="wrong-password"} == 0', async () => (await value('up{job="wrong-password"}')) === '0', 60_000, 500);
    expect(await value('count(agentic_agent_up{job=~"no-auth|wrong-password"})')).toBeUndefined();
    // Prometheus says why: the target's last error is the 401.
    const targets = (await (await fetch(`${prom.url}/api/v1/targets`)).json()) as { data: { activeTargets: { labels: { job: string }; lastError: string; health: string }[] } };
    const noAuth = targets.data.activeTargets.find((t) => t.labels.job === 'no-auth');
    expect(noAuth?.health).toBe('down');
    expect(noAuth?.lastError).toMatch(/401/);
  });
});
