import type { Db } from '../store/Database.js';
import { RunLedger, type RoleRunUsage } from '../store/RunLedger.js';

export interface RoleStats {
  role: string;
  completed: number;
  failed: number;
  cancelled: number;
  /** Failed (dead-lettered) out of finished, 0..1. */
  error_rate: number;
  /** Completed per minute over the window. */
  throughput_per_min: number;
  duration_seconds: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
  /** Summed over the per_task runs that finished in the window (every attempt); `runs` counts them. */
  llm: { cost_usd: number; input_tokens: number; output_tokens: number; cache_tokens: number; turns: number; runs: number };
}

const pct = (sorted: number[], p: number): number | null => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number) : null);

/**
 * Task performance over a window, computed exactly from the durable queue (no
 * Prometheus needed): completion-time percentiles, throughput and error rate by
 * role, and LLM cost and tokens where the claude-stream-json adapter recorded them.
 * LLM usage is summed over every per_task run that finished in the window (each
 * attempt, failed ones included), as /metrics counts it in `agentic_llm_*_total`.
 */
export function taskStats(db: Db, sinceMs: number, now = Date.now()): RoleStats[] {
  const rows = db.prepare(`SELECT role, status, started_at, finished_at
    FROM tasks WHERE finished_at >= ? AND status IN ('completed', 'failed', 'cancelled')`).all(sinceMs) as FinishedRow[];
  return roleStatsFrom(rows, new RunLedger(db).usageSince(sinceMs), sinceMs, now);
}

/** A task that finished in the window, as {@link roleStatsFrom} reads it. */
export interface FinishedRow { role: string; status: string; started_at: number | null; finished_at: number }

/** The figures of {@link taskStats} from the finished tasks and the runs' LLM usage, whichever store they came from. */
export function roleStatsFrom(rows: readonly FinishedRow[], runUsage: readonly RoleRunUsage[], sinceMs: number, now: number): RoleStats[] {
  const usage = new Map(runUsage.map((u) => [u.role, u]));
  const minutes = Math.max(1 / 60, (now - sinceMs) / 60_000);
  const byRole = new Map<string, FinishedRow[]>([...usage.keys()].map((role) => [role, []]));
  for (const r of rows) byRole.set(r.role, [...(byRole.get(r.role) ?? []), r]);
  return [...byRole].map(([role, rs]) => {
    const completed = rs.filter((r) => r.status === 'completed');
    const failed = rs.filter((r) => r.status === 'failed').length;
    const durations = completed.filter((r) => r.started_at !== null).map((r) => (r.finished_at - (r.started_at as number)) / 1000).sort((a, b) => a - b);
    const u = usage.get(role);
    return {
      role,
      completed: completed.length,
      failed,
      cancelled: rs.filter((r) => r.status === 'cancelled').length,
      error_rate: completed.length + failed ? failed / (completed.length + failed) : 0,
      throughput_per_min: completed.length / minutes,
      duration_seconds: { p50: pct(durations, 0.5), p95: pct(durations, 0.95), p99: pct(durations, 0.99), max: durations.at(-1) ?? null },
      llm: {
        cost_usd: u?.cost_usd ?? 0, input_tokens: u?.input_tokens ?? 0, output_tokens: u?.output_tokens ?? 0,
        cache_tokens: (u?.cache_creation_tokens ?? 0) + (u?.cache_read_tokens ?? 0), turns: u?.turns ?? 0, runs: u?.runs ?? 0,
      },
    };
  }).sort((a, b) => a.role.localeCompare(b.role));
}
