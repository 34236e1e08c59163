import type { FleetCounts } from '../supervisor/fleetCounts.js';
import type { DetectedFinding } from './FindingLedger.js';
import type { HealthChecker } from './HealthChecker.js';
import type { SystemResourcesReport } from './systemResources.js';
import type { RoleCapacity } from './systemVerdict.js';
import type { HealthSource } from './Target.js';
import { CHECK_NAMES, worst, type CheckName, type Verdict } from './types.js';

/** A finding as JSON: times as ISO strings. */
export type FindingJson = Omit<DetectedFinding, 'since' | 'detected_at'> & { since: string; detected_at: string };

export interface CheckJson {
  /** `healthy | degraded | unhealthy`, `skipped` (does not apply now), `pending` (not run yet), `disabled`. */
  status: Verdict | 'skipped' | 'pending' | 'disabled';
  summary: string;
  checked_at: string | null;
}

export interface AgentHealthJson {
  agent: string;
  role: string;
  /** The slot: `qaa-0`, `<agent>:<task id>` for a per_task process, or the agent name for an idle per_task agent. */
  replica: string;
  mode: 'service' | 'per_task';
  state: string;
  pid: number | null;
  task_id: string | null;
  /** Seconds since the task's last progress (or output, per_task); null without a task. */
  last_progress_seconds?: number | null | undefined;
  verdict: Verdict;
  findings: FindingJson[];
  checks: Record<CheckName, CheckJson>;
}

/** The body of GET /api/v1/health. */
export interface HealthReportJson {
  /** The system verdict; with an agent filter, the worst verdict of the selected agents. */
  verdict: Verdict;
  checked_at: string | null;
  system: {
    verdict: Verdict;
    agents: FleetCounts['agents'];
    replicas: FleetCounts['replicas'];
    slots: FleetCounts['slots'];
    capacity: Record<string, RoleCapacity>;
    findings: FindingJson[];
    resources: SystemResourcesReport | null;
  };
  agents: AgentHealthJson[];
}

const iso = (ms: number): string => new Date(ms).toISOString();
const findingJson = (f: DetectedFinding): FindingJson => ({ ...f, since: iso(f.since), detected_at: iso(f.detected_at) });

/**
 * The health report as JSON. `agent` selects one agent (by name) or replica (by
 * slot); the result is undefined when it matches nothing.
 */
export function healthReport(checker: HealthChecker, src: HealthSource, agent?: string): HealthReportJson | undefined {
  const enabled = new Set(checker.checks.map((c) => c.name));
  const agents: AgentHealthJson[] = checker.targets().map(({ target: t, verdict, findings, checks }) => ({
    agent: t.agent, role: t.role, replica: t.id, mode: t.mode, state: t.state, pid: t.pid ?? null, task_id: t.task?.id ?? null,
    last_progress_seconds: t.task ? Math.round((checker.now() - t.task.lastProgressAt) / 100) / 10 : null, verdict,
    findings: findings.map(findingJson),
    checks: Object.fromEntries(CHECK_NAMES.map((name): [CheckName, CheckJson] => {
      const r = checks[name];
      if (!enabled.has(name)) return [name, { status: 'disabled', summary: 'disabled in the config', checked_at: null }];
      return [name, r ? { status: r.status, summary: r.summary, checked_at: iso(r.at) } : { status: 'pending', summary: 'not run yet', checked_at: null }];
    })) as Record<CheckName, CheckJson>,
  }));
  for (const p of src.perTask) {
    if (p.runs.size > 0) continue;
    const idle: CheckJson = { status: 'skipped', summary: 'no process running', checked_at: null };
    agents.push({
      agent: p.config.name, role: p.role, replica: p.config.name, mode: 'per_task', state: p.stopping ? 'stopping' : p.stopped ? 'stopped' : 'idle', pid: null, task_id: null, last_progress_seconds: null, verdict: 'healthy', findings: [],
      checks: Object.fromEntries(CHECK_NAMES.map((n) => [n, enabled.has(n) ? idle : { ...idle, status: 'disabled', summary: 'disabled in the config' }])) as Record<CheckName, CheckJson>,
    });
  }
  const selected = agent === undefined ? agents : agents.filter((a) => a.agent === agent || a.replica === agent);
  if (agent !== undefined && selected.length === 0) return undefined;
  const sys = checker.system();
  return {
    verdict: agent === undefined ? sys.verdict : selected.reduce<Verdict>((v, a) => worst(v, a.verdict), 'healthy'),
    checked_at: sys.checked_at ? iso(sys.checked_at) : null,
    system: {
      verdict: sys.verdict, agents: sys.agents, replicas: sys.replicas, slots: sys.slots, capacity: sys.capacity,
      findings: sys.findings.map(findingJson), resources: sys.resources ?? null,
    },
    agents: selected,
  };
}
