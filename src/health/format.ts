/** Number formats shared by the health messages, so every sentence reads the same. */

/** A duration for a sentence: `850ms`, `4.2s`, `42s`, `3m12s`, `2h05m`. */
export function dur(ms: number): string {
  if (!Number.isFinite(ms)) return '∞';
  const m = Math.max(0, ms);
  if (m < 1000) return `${Math.round(m)}ms`;
  if (m < 10_000) return `${(m / 1000).toFixed(1)}s`;
  const s = Math.round(m / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d${Math.floor((s % 86_400) / 3600)}h`;
}

/** A configured number of seconds as written in the config: `180s`, `0.5s`. */
export const cfgSecs = (s: number): string => `${Number(s.toFixed(3))}s`;

/** A CPU percentage: `0.0%`, `99.7%`. */
export const pct = (p: number | undefined): string => (p === undefined ? 'not measured yet' : `${p.toFixed(1)}%`);

/** Bytes as MB (MiB) with one decimal: `45.3 MB`. */
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** How long a task has gone without progress, as every surface says it: `last progress 47s ago`. */
export const lastProgressText = (seconds: number): string => `last progress ${dur(seconds * 1000)} ago`;

/** Rounds for a finding's `value`. */
export const round1 = (x: number): number => Math.round(x * 10) / 10;
