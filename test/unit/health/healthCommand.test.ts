import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CliError, EXIT } from '../../../src/cli/CliError.js';
import { HEALTH_EXIT, HEALTH_EXIT_NO_SUCH_AGENT, healthCommand, renderHealth } from '../../../src/cli/commands/health.js';
import type { AgentHealthJson, HealthReportJson } from '../../../src/health/report.js';

const NOW = Date.parse('2025-06-20T10:00:10Z');
const ok = { status: 'healthy' as const, summary: 'x', checked_at: '2025-06-20T10:00:09Z' };
const agent = (replica: string, over: Partial<AgentHealthJson> = {}): AgentHealthJson => ({
  agent: replica.split('-')[0]!, role: replica.split('-')[0]!, replica, mode: 'service', state: 'running', pid: 10, task_id: null, verdict: 'healthy', findings: [],
  checks: { agent_response: ok, resource_usage: ok, task_progress: ok, memory_leaks: { ...ok, summary: 'warming up' }, connectivity: { status: 'skipped', summary: 'no dependencies', checked_at: null } },
  ...over,
});
const report: HealthReportJson = {
  verdict: 'unhealthy', checked_at: '2025-06-20T10:00:08Z',
  system: {
    verdict: 'unhealthy', agents: { configured: 2, up: 2, down: [], stopped: [] }, replicas: { configured: 2, up: 2, stopped: 0 }, slots: { configured: 0, busy: 0 },
    capacity: { qaa: { configured: 1, up: 1, healthy: 0, busy: 1 }, saa: { configured: 1, up: 1, healthy: 1, busy: 0 } },
    findings: [{ check: 'system', kind: 'capacity', severity: 'unhealthy', value: 0, threshold: 1, message: 'system: role qaa has no healthy capacity', since: '2025-06-20T10:00:05Z', detected_at: '2025-06-20T10:00:05Z' }],
    resources: null,
  },
  agents: [
    agent('qaa-0', {
      verdict: 'unhealthy', task_id: 'STORY_42',
      checks: { ...agent('x').checks, task_progress: { status: 'unhealthy', summary: 's', checked_at: null } },
      findings: [{ check: 'task_progress', kind: 'stale_task', severity: 'unhealthy', value: 192, threshold: 180, since: '2025-06-20T09:56:58Z', detected_at: '2025-06-20T10:00:00Z',
        message: 'qaa: task STORY_42 has made no progress for 3m12s (stale_task_threshold 180s); process state S, CPU 0.0% — looks blocked waiting on I/O' }],
    }),
    agent('saa-0'),
  ],
};

describe('background health output', () => {
  it('prints the system line, capacity, a row per replica with each check, and every finding with its diagnosis', () => {
    const text = renderHealth(report, false, NOW);
    expect(text).toContain('System: UNHEALTHY — 2/2 agents up (replicas 2/2), checked 2s ago');
    expect(text).toContain('Capacity: qaa 0/1 healthy, 1 busy; saa 1/1 healthy');
    const rows = text.split('\n');
    expect(rows.find((l) => l.startsWith('REPLICA'))).toMatch(/^REPLICA\s+STATE\s+VERDICT\s+RESPONSE\s+RESOURCES\s+PROGRESS\s+MEMORY\s+CONNECTIVITY\s+TASK$/);
    expect(rows.find((l) => l.startsWith('qaa-0'))).toMatch(/^qaa-0\s+running\s+UNHEALTHY\s+ok\s+ok\s+UNHEALTHY\s+warming up\s+-\s+STORY_42$/);
    expect(rows.find((l) => l.startsWith('saa-0'))).toMatch(/^saa-0\s+running\s+healthy\s+ok\s+ok\s+ok\s+warming up\s+-\s+-$/);
    expect(text).toContain('  ✗ task_progress/stale_task (since 09:56:58, detected 10s ago)\n    qaa: task STORY_42 has made no progress for 3m12s (stale_task_threshold 180s); process state S, CPU 0.0% — looks blocked waiting on I/O');
    expect(text).toContain('  ✗ system/capacity');
    expect(text.includes('\u001b[')).toBe(false);
  });

  it('colours verdicts only when asked (a TTY without NO_COLOR)', () => {
    const text = renderHealth(report, true, NOW);
    expect(text).toContain('\u001b[31m'); // red for unhealthy
    expect(text).toContain('\u001b[32mhealthy\u001b[0m');
  });

  it('maps verdicts to exit statuses 0, 1 and 2', () => {
    expect(HEALTH_EXIT).toEqual({ healthy: 0, degraded: 1, unhealthy: 2 });
  });
});

describe('background health --agent', () => {
  let server: Server | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    if (server) await new Promise((r) => server!.close(r));
    if (dir) rmSync(dir, { recursive: true, force: true });
    server = undefined;
    dir = undefined;
  });

  /** A state directory whose endpoint is a stub of the control API answering GET /api/v1/health like the supervisor. */
  async function stub(): Promise<string> {
    server = createServer((req, res) => {
      const agent = new URL(req.url ?? '/', 'http://x').searchParams.get('agent');
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== 'Bearer t0ken-t0ken-t0ken-t0ken') { res.statusCode = 401; res.end('{"error":"unauthorized"}'); return; }
      if (agent && agent !== 'qaa' && agent !== 'qaa-0' && agent !== 'saa' && agent !== 'saa-0') {
        res.statusCode = 404;
        res.end(JSON.stringify({ error: 'unknown_agent', reason: `no agent or replica named ${agent}; known: qaa, saa, qaa-0, saa-0` }));
        return;
      }
      res.end(JSON.stringify(agent === 'saa' ? { ...report, verdict: 'healthy', agents: [report.agents[1]] } : report));
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    dir = mkdtempSync(path.join(tmpdir(), 'health-cli-'));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(path.join(dir, 'endpoint.json'), JSON.stringify({ url, pid: process.pid, started_at: new Date().toISOString(), state_dir: dir }));
    writeFileSync(path.join(dir, 'api.token'), 't0ken-t0ken-t0ken-t0ken\n');
    return dir;
  }

  it('exits with the agent\'s verdict for a known agent', async () => {
    const stateDir = await stub();
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await healthCommand({ stateDir, agent: 'saa' })).toBe(HEALTH_EXIT.healthy);
    expect(await healthCommand({ stateDir })).toBe(HEALTH_EXIT.unhealthy);
    expect(out).toHaveBeenCalled();
  });

  it('fails with its own exit status (64), naming the agent and the known ones, for an unknown agent', async () => {
    const stateDir = await stub();
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = await healthCommand({ stateDir, agent: 'nobody' }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(64);
    expect((err as CliError).message).toBe('No agent or replica named "nobody" in this supervisor (known: qaa, saa, qaa-0, saa-0). Pass an agent name or a replica such as qaa-0; `agentic-scrum-setup background status` lists them.');
    expect(out).not.toHaveBeenCalled();
    // distinct from every verdict, and from "no supervisor"
    expect([...Object.values(HEALTH_EXIT), EXIT.NOT_RUNNING, EXIT.USAGE]).not.toContain(HEALTH_EXIT_NO_SUCH_AGENT);
  });
});
