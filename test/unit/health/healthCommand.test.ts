import { describe, expect, it } from 'vitest';
import { HEALTH_EXIT, renderHealth } from '../../../src/cli/commands/health.js';
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
    verdict: 'unhealthy', agents: { configured: 2, up: 2, down: [] }, replicas: { configured: 2, up: 2 },
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
    expect(text).toContain('System: UNHEALTHY — 2/2 agents up (2/2 service replicas), checked 2s ago');
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
