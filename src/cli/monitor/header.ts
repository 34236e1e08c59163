import { clockTime } from './agentState.js';
import type { Paint } from './ansi.js';
import { isUp } from './health.js';
import type { Snapshot, Verdict } from './model.js';

const VERDICT_TEXT: Record<Verdict, { text: string; tone: 'ok' | 'warn' | 'bad' }> = {
  healthy: { text: 'Healthy', tone: 'ok' },
  degraded: { text: 'Degraded', tone: 'warn' },
  unhealthy: { text: 'Unhealthy', tone: 'bad' },
};

/** `3.2` tasks/min, or `-` when unknown. */
export const fmtRate = (r: number | undefined): string => (r === undefined ? '-' : r >= 10 ? String(Math.round(r)) : r.toFixed(1));

/**
 * The four header lines of the seed's mock: System Status (coloured, or
 * "reconnecting…" while the supervisor is unreachable), Active Agents up/configured,
 * Queue Depth and Processing Rate. The last good figures stay while reconnecting.
 */
export function headerLines(s: Snapshot, p: Paint): { left: string; right: string }[] {
  const agents = s.status?.agents ?? [];
  const up = agents.filter(isUp).length;
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
    { left: `Active Agents: ${s.status ? `${up}/${agents.length}` : '-'}`, right: s.status ? p.tone(`supervisor pid ${s.status.supervisor.pid}`, 'dim') : '' },
    { left: `Queue Depth: ${q ? `${q.pending} task${q.pending === 1 ? '' : 's'} (${q.in_progress} in progress)` : '-'}`, right: '' },
    { left: `Processing Rate: ${fmtRate(s.ratePerMin)} tasks/min`, right: '' },
  ];
}
