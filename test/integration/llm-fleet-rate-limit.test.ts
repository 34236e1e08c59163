import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition } from '../../src/telemetry/metrics/parseExposition.js';
import { ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * The API rate-limits two roles at once (fake `claude -p` runs,
 * test/fixtures/claude/tool-script.mjs scenario `ratelimit`: the first attempt of
 * each task is rate-limited after 300 ms, later ones succeed). That is the account
 * being limited, not one role: one system finding for the fleet, not one per role,
 * and it clears when the backoffs end. The backoff (15 s) is long against the check
 * interval (1 s) so that health rounds see it even at a high load; every wait is for
 * an event, with a generous bound.
 */

interface Finding { check: string; kind: string; subject?: string; severity: string; value: unknown; message: string }
interface Health { system: { verdict: string; findings: Finding[] } }

const FIX = path.join(ROOT, 'test/fixtures/claude/tool-script.mjs');
const WAIT = 60_000;

describe('a rate limit on several roles at once is one fleet finding', () => {
  let sup: RunningSupervisor;
  const claude = (name: string) => ({
    name, mode: 'per_task', command: ['node', FIX, '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'],
    stdout_adapter: 'claude-stream-json', stop_timeout: 2, env: { CLAUDE_FIXTURE_SCENARIO: 'ratelimit' },
  });
  const health = async () => (await sup.api<Health>('GET', '/api/v1/health')).body.system;
  const metric = async (name: string) => parseExposition(await (await fetch(`${sup.url}/metrics`)).text(), 'prometheus').value(name, {});

  beforeAll(async () => {
    sup = await startSupervisor({
      llm: { rate_limit_backoff: { base: 15, max: 60 } },
      monitoring: { check_interval: 1 },
      agents: [claude('alpha'), claude('beta')],
    });
  }, 60_000);

  afterAll(() => cleanup(sup));

  it('raises one shared_rate_limit system finding (health, verdict, /metrics) instead of two role findings, and clears it when the backoffs end', async () => {
    expect(await metric('agentic_llm_fleet_rate_limited')).toBe(0);
    const ids: string[] = [];
    for (const role of ['alpha', 'beta']) {
      const r = await sup.api<{ task: { id: string } }>('POST', '/api/v1/tasks', { role, title: `story for ${role}`, prompt: 'do it' });
      expect(r.status).toBe(201);
      ids.push(r.body.task.id);
    }
    const system = await waitFor('the shared_rate_limit finding', async () => {
      const s = await health();
      return s.findings.some((f) => f.kind === 'shared_rate_limit') ? s : undefined;
    }, WAIT);
    const llm = system.findings.filter((f) => f.kind === 'shared_rate_limit' || f.kind === 'rate_limited');
    expect(llm.map((f) => [f.check, f.kind, f.subject, f.severity, f.value])).toEqual([['system', 'shared_rate_limit', undefined, 'degraded', 2]]);
    expect(llm[0]?.message).toMatch(/^system: the LLM API is rate-limiting 2 roles at once \(alpha, beta\) for [\d.hms]+ — the provider is limiting the account, not one role; each role backs off \(llm\.rate_limit_backoff\), the last until about \d\d:\d\d:\d\d UTC, and their tasks wait$/);
    expect(system.verdict).toBe('degraded');
    expect(await metric('agentic_llm_fleet_rate_limited')).toBe(1);
    const cli = await sup.cli(['background', 'health']);
    expect(cli.code).toBe(1); // degraded
    expect(cli.stdout).toContain('system/shared_rate_limit');
    expect(cli.stdout).toContain('the LLM API is rate-limiting 2 roles at once (alpha, beta)');

    // The backoffs end, the second attempts complete, and the finding clears.
    for (const id of ids) {
      await waitFor(`task ${id} to complete`, async () => (await sup.api<{ task: { status: string } }>('GET', `/api/v1/tasks/${id}`)).body.task.status === 'completed', WAIT);
    }
    const after = await waitFor('the finding to clear', async () => {
      const s = await health();
      return s.findings.some((f) => f.kind === 'shared_rate_limit' || f.kind === 'rate_limited') ? undefined : s;
    }, WAIT);
    expect(after.verdict).toBe('healthy');
    expect(await metric('agentic_llm_fleet_rate_limited')).toBe(0);
    expect(await metric('agentic_system_health')).toBe(0);
    // Raised once and resolved once in the log; no role-level rate_limited finding was raised while both were held.
    const lines = sup.output().split('\n').filter((l) => l.includes('"finding":"shared_rate_limit"'));
    expect(lines.filter((l) => l.includes('health degraded')), lines.join('\n')).toHaveLength(1);
    expect(lines.filter((l) => l.includes('is resolved')), lines.join('\n')).toHaveLength(1);
  }, 120_000);
});
