import type { AgentStatus } from '../../supervisor/statusSnapshot.js';
import { fmtDuration, table } from '../format.js';

/** `12.3k`, `1.2M`: a token count at a glance. */
export function fmtTokens(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export const fmtUsd = (usd: number | null | undefined): string => (usd === null || usd === undefined ? '-' : `$${usd.toFixed(4)}`);

/**
 * The per_task runs table of `background status`: each run in flight (slot, task,
 * turns and tokens so far, and `~$0.0123`, their cost at the model's list price, when
 * the model is priced; the cost charged comes with the result) and each
 * agent's last finished run. Empty when no per_task agent has run anything.
 */
export function runsTable(agents: readonly AgentStatus[]): string | undefined {
  const rows: string[][] = [];
  for (const a of agents) {
    if (a.mode !== 'per_task') continue;
    for (const r of a.runs ?? []) {
      rows.push([a.agent, r.slot, r.task_id, String(r.attempt), `running ${fmtDuration(r.age_seconds)}`, String(r.turns), fmtTokens(r.tokens), r.cost_usd_estimated === null ? 'at result' : `~${fmtUsd(r.cost_usd_estimated)}`, r.message ?? '']);
    }
    const l = a.last_run;
    if (l) {
      const outcome = `last: ${l.outcome}${l.cause && l.cause !== 'agent_failed' ? ` (${l.cause})` : ''} ${fmtDuration(l.duration_seconds)}`;
      rows.push([a.agent, l.slot, l.task_id, String(l.attempt), outcome, l.turns === null ? '-' : String(l.turns), fmtTokens(l.tokens), fmtUsd(l.cost_usd), l.error ?? `ended ${l.finished_at.slice(11, 19)}`]);
    }
  }
  if (!rows.length) return undefined;
  const cut = (s: string) => (s.length > 60 ? `${s.slice(0, 59)}…` : s);
  return table(['AGENT', 'SLOT', 'TASK', 'ATTEMPT', 'RUN', 'TURNS', 'TOKENS', 'COST', 'LAST'], rows.map((r) => [...r.slice(0, 8), cut(r[8] ?? '')]));
}
