import { fmtBytes, fmtDuration } from '../format.js';
import { clockTime, describeState, describeTask, exitSummary } from './agentState.js';
import type { Paint } from './ansi.js';
import { eventLine } from './events.js';
import { healthOf } from './health.js';
import type { AgentStatus, HealthView, MonitorEvent } from './model.js';

const TONE_OF_VERDICT = { healthy: 'ok', degraded: 'warn', unhealthy: 'bad' } as const;

/** The recent-events pane: newest first, coloured by what happened. */
export function eventsPane(events: readonly MonitorEvent[], p: Paint): string[] {
  if (events.length === 0) return [p.tone('(no events yet: restarts, findings and escalations appear here)', 'dim')];
  return events.map((e) => p.tone(eventLine(e), e.tone));
}

/** The details pane of one replica: identity, lifecycle, task, health findings, then its last log lines. */
export function detailPane(a: AgentStatus, health: HealthView | undefined, logLines: readonly string[], p: Paint, now: number): string[] {
  const st = describeState(a, healthOf(health, a), now);
  const reasons = Object.entries(a.restarts_by_reason).filter(([, n]) => n > 0).map(([r, n]) => `${r} ${n}`).join(', ');
  const out = [
    `${p.bold(a.replica)}  agent ${a.agent}  role ${a.role}  mode ${a.mode}  pid ${a.pid ?? '-'}${a.sdk ? `  sdk ${a.sdk}` : ''}`,
    `state ${p.tone(st.text, st.tone)}  uptime ${fmtDuration(a.uptime_seconds)}  restarts ${a.restarts}${reasons ? ` (${reasons})` : ''}`,
    `CPU ${a.cpu_percent === null ? '-' : `${a.cpu_percent.toFixed(1)}%`}  RAM ${fmtBytes(a.rss_bytes)}  heartbeat ${a.last_heartbeat_age_seconds === null ? '-' : `${a.last_heartbeat_age_seconds.toFixed(1)}s ago`}`,
    `task ${describeTask(a)}${a.task ? ` (running ${fmtDuration(a.task.running_seconds)})` : ''}`,
  ];
  if (a.last_exit) out.push(`last exit ${clockTime(Date.parse(a.last_exit.at))}: ${exitSummary(a.last_exit)}`);
  const h = healthOf(health, a);
  if (h) {
    out.push(`health ${p.tone(h.verdict, TONE_OF_VERDICT[h.verdict])}${health?.source === 'derived' ? p.tone(' (from lifecycle; the supervisor has no health endpoint)', 'dim') : ''}`);
    for (const f of h.findings) out.push(`  - ${f.check}: ${f.message}`);
  }
  out.push(p.tone('last log lines:', 'dim'), ...logLines.map((l) => `  ${l}`));
  return out;
}

/** The logs pane: the agent's log tail, oldest first, the newest at the bottom. */
export function logsPane(logLines: readonly string[], p: Paint): string[] {
  return logLines.length ? [...logLines] : [p.tone('(no log lines yet)', 'dim')];
}
