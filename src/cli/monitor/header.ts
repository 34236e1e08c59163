import { fleetCounts, fleetDetail, type FleetCounts } from '../../supervisor/fleetCounts.js';
import type { ReplicaStateKind } from '../../supervisor/ReplicaState.js';
import { clockTime } from './agentState.js';
import type { Paint } from './ansi.js';
import type { AgentStatus, Snapshot, Verdict } from './model.js';

const VERDICT_TEXT: Record<Verdict, { text: string; tone: 'ok' | 'warn' | 'bad' }> = {
  healthy: { text: 'Healthy', tone: 'ok' },
  degraded: { text: 'Degraded', tone: 'warn' },
  unhealthy: { text: 'Unhealthy', tone: 'bad' },
};

/** `3.2` tasks/min, or `-` when unknown. */
export const fmtRate = (r: number | undefined): string => (r === undefined ? '-' : r >= 10 ? String(Math.round(r)) : r.toFixed(1));

/** The fleet counts of an older supervisor's status (no `fleet`), from its rows, counted as fleetCounts does. */
export function fleetOfRows(agents: readonly AgentStatus[]): FleetCounts {
  return fleetCounts({
    replicas: agents.filter((a) => a.mode === 'service').map((a) => ({ config: { name: a.agent }, role: a.role, state: { kind: a.state as ReplicaStateKind } })),
    perTask: agents.filter((a) => a.mode === 'per_task').map((a) => ({
      config: { name: a.agent, max_concurrent: a.concurrency?.max ?? 1 }, role: a.role, stopping: a.state === 'stopping', stopped: a.state === 'stopped', runs: { size: a.concurrency?.running ?? 0 },
    })),
  });
}

/** `5/5 (replicas 4/5, slots 1/2 busy)`: agents up out of configured, as `status` and `health` count them. */
export const fleetFigures = (f: FleetCounts): string => `${f.agents.up}/${f.agents.configured} (${fleetDetail(f)})`;

/**
 * The four header lines of the seed's mock: System Status (coloured, or
 * "reconnecting…" while the supervisor is unreachable), Active Agents up/configured
 * (agents, with replicas and per_task slots: the counts of `status` and `health`),
 * Queue Depth and Processing Rate. The last good figures stay while reconnecting.
 */
export function headerLines(s: Snapshot, p: Paint): { left: string; right: string }[] {
  const fleet = s.status ? (s.status.fleet ?? fleetOfRows(s.status.agents)) : undefined;
  const verdict = s.health ? VERDICT_TEXT[s.health.verdict] : undefined;
  const status = !s.connected
    ? p.tone('○ reconnecting…', 'warn')
    : verdict ? p.tone(`● ${verdict.text}`, verdict.tone) : p.tone('○ unknown', 'dim');
  const right = s.connected
    ? p.tone(`updated ${clockTime(s.at)}`, 'dim')
    : p.tone(s.okAt !== undefined ? `last data ${clockTime(s.okAt)}` : (s.error ?? ''), 'dim');
  const q = s.status?.queue;
  return [
    { left: `System Status: ${status}`, right },
    { left: `Active Agents: ${fleet ? fleetFigures(fleet) : '-'}`, right: s.status ? p.tone(`supervisor pid ${s.status.supervisor.pid}`, 'dim') : '' },
    { left: `Queue Depth: ${q ? `${q.pending} task${q.pending === 1 ? '' : 's'} (${q.in_progress} in progress)` : '-'}`, right: '' },
    { left: `Processing Rate: ${fmtRate(s.ratePerMin)} tasks/min`, right: '' },
  ];
}
