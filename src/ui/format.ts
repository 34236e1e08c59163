import type { AgentHealthJson, FindingJson } from './types.js';

export type Verdict = 'healthy' | 'degraded' | 'unhealthy';

/** Colour plus text (and a symbol) for every verdict: never colour alone. */
export const VERDICT_MARK: Record<Verdict, string> = { healthy: '✓', degraded: '!', unhealthy: '✗' };

const RANK: Record<Verdict, number> = { healthy: 0, degraded: 1, unhealthy: 2 };
export const worst = (a: Verdict, b: Verdict): Verdict => (RANK[b] > RANK[a] ? b : a);

/** The state classes of the badges: ok (running, idle, completed), warn (starting, backoff, pending…), bad (failed, circuit open…), off (stopped). */
export function stateTone(state: string): 'ok' | 'warn' | 'bad' | 'off' {
  if (['running', 'idle', 'completed', 'healthy', 'closed'].includes(state)) return 'ok';
  if (['failed', 'circuit_open', 'unhealthy', 'open', 'dead'].includes(state)) return 'bad';
  if (['stopped', 'cancelled', 'disabled'].includes(state)) return 'off';
  return 'warn';
}

export const bytes = (b: number | null | undefined): string => (b === null || b === undefined ? '–' : b >= 1024 ** 3 ? `${(b / 1024 ** 3).toFixed(1)} GB` : `${(b / 1024 ** 2).toFixed(1)} MB`);

export function ago(iso: string | number | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined) return '–';
  const s = Math.max(0, Math.round((now - (typeof iso === 'number' ? iso : Date.parse(iso))) / 1000));
  return s < 60 ? `${s}s ago` : s < 3600 ? `${Math.round(s / 60)}m ago` : `${(s / 3600).toFixed(1)}h ago`;
}

export const when = (ms: number | null | undefined): string => (ms ? new Date(ms).toLocaleTimeString() : '–');

/** The health rows of one status row: the replica's own, or every run of a per_task agent. */
export function healthOfRow(rows: readonly AgentHealthJson[], agent: string, replica: string, mode: string): AgentHealthJson[] {
  return rows.filter((h) => (mode === 'per_task' ? h.agent === agent : h.replica === replica));
}

/** The first failing check, as `health` prints it: `check/kind: message` (the worst finding first). */
export function failing(findings: readonly FindingJson[]): FindingJson | undefined {
  return [...findings].sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'unhealthy' ? -1 : 1))[0];
}
