import { clockTime, exitSummary } from './agentState.js';
import { rowName } from './columns.js';
import { healthOf } from './health.js';
import type { AgentStatus, HealthView, MonitorEvent, StatusBody } from './model.js';

/** How many events the monitor keeps (newest first). */
export const EVENT_MEMORY = 50;

const exitText = (a: AgentStatus): string => exitSummary(a.last_exit);

function changedReason(prev: AgentStatus, next: AgentStatus): string | undefined {
  for (const [reason, n] of Object.entries(next.restarts_by_reason)) if (n > (prev.restarts_by_reason[reason] ?? 0)) return reason;
  return undefined;
}

/**
 * Events seen by comparing two polls: exits and scheduled restarts, restarts
 * done, open circuits and failures (escalations), health verdict changes
 * with the finding that caused them, and replicas added or removed (scale, reload).
 */
export function diffEvents(prev: StatusBody | undefined, next: StatusBody, prevHealth: HealthView | undefined, nextHealth: HealthView | undefined, now: number): MonitorEvent[] {
  if (!prev) return [];
  const out: MonitorEvent[] = [];
  const before = new Map(prev.agents.map((a) => [a.replica, a]));
  const add = (agent: string, kind: MonitorEvent['kind'], text: string, tone: MonitorEvent['tone']) => out.push({ at: now, kind, agent, text: `${agent} ${text}`, tone });
  for (const a of next.agents) {
    const p = before.get(a.replica);
    if (!p) continue;
    const name = rowName(a, next.agents);
    if (a.state !== p.state) {
      if (a.state === 'backoff') add(name, 'restart', `exited (${exitText(a)}); restarting${a.restart_at ? ` at ${clockTime(Date.parse(a.restart_at))}` : ''}`, 'warn');
      else if (a.state === 'circuit_open') add(name, 'escalation', `circuit open until ${a.restart_at ? clockTime(Date.parse(a.restart_at)) : '?'} (${exitText(a)})`, 'bad');
      else if (a.state === 'failed') add(name, 'escalation', `failed (${exitText(a)}): restarts exhausted`, 'bad');
      else if (a.state === 'stopped') add(name, 'state', 'stopped', 'dim');
    }
    if (a.restarts > p.restarts) {
      const reason = changedReason(p, a);
      add(name, 'restart', `restarted${reason ? ` (${reason})` : ''}${a.pid ? `, pid ${a.pid}` : ''}`, reason === 'manual' ? 'dim' : 'warn');
    }
    const h0 = healthOf(prevHealth, p);
    const h1 = healthOf(nextHealth, a);
    if (h1 && h0 && h1.verdict !== h0.verdict && nextHealth?.source === 'endpoint') {
      const f = h1.findings[0];
      if (h1.verdict === 'healthy') add(name, 'finding', 'healthy again', 'ok');
      else add(name, 'finding', `${h1.verdict}${f ? `: ${f.message}` : ''}`, h1.verdict === 'unhealthy' ? 'bad' : 'warn');
    }
  }
  if (prev.supervisor.pid === next.supervisor.pid) {
    // Replicas that came or went while the supervisor ran: a scale, a reload.
    const after = new Set(next.agents.map((a) => a.replica));
    for (const a of next.agents) if (!before.has(a.replica)) add(rowName(a, next.agents), 'state', `added${a.state === 'stopped' ? ' (stopped)' : ''}`, 'dim');
    for (const a of prev.agents) if (!after.has(a.replica)) add(rowName(a, prev.agents), 'state', 'removed', 'dim');
  }
  if (prev.supervisor.pid !== next.supervisor.pid) out.push({ at: now, kind: 'connection', agent: null, text: `supervisor restarted (pid ${prev.supervisor.pid} → ${next.supervisor.pid})`, tone: 'warn' });
  return out;
}

/** Adds new events in front, keeping at most EVENT_MEMORY. */
export function pushEvents(list: readonly MonitorEvent[], fresh: readonly MonitorEvent[]): MonitorEvent[] {
  return [...[...fresh].reverse(), ...list].slice(0, EVENT_MEMORY);
}

/** Adds events from any time (the supervisor's history), keeping the list newest first and at most EVENT_MEMORY. */
export function mergeEvents(list: readonly MonitorEvent[], more: readonly MonitorEvent[]): MonitorEvent[] {
  return [...list, ...more].sort((a, b) => b.at - a.at).slice(0, EVENT_MEMORY);
}

/** `10:42:07 qaa-1 restarted (crash)`. */
export const eventLine = (e: MonitorEvent): string => `${clockTime(e.at)} ${e.text}`;
