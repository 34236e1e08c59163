import type { Db } from '../store/Database.js';

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
  llm: { cost_usd: number; input_tokens: number; output_tokens: number; cache_tokens: number; turns: number };
}

const pct = (sorted: number[], p: number): number | null => (sorted.length ? (sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] as number) : null);

/**
 * Task performance over a window, computed exactly from the durable queue (no
 * Prometheus needed): completion-time percentiles, throughput and error rate by
 * role, and LLM cost and tokens where the claude-stream-json adapter recorded them.
 */
export function taskStats(db: Db, sinceMs: number, now = Date.now()): RoleStats[] {
  const rows = db.prepare(`SELECT role, status, started_at, finished_at,
      json_extract(llm, '$.total_cost_usd') AS cost, json_extract(llm, '$.usage.input_tokens') AS tin,
      json_extract(llm, '$.usage.output_tokens') AS tout,
      COALESCE(json_extract(llm, '$.usage.cache_read_input_tokens'), 0) + COALESCE(json_extract(llm, '$.usage.cache_creation_input_tokens'), 0) AS tcache,
      json_extract(llm, '$.num_turns') AS turns
    FROM tasks WHERE finished_at >= ? AND status IN ('completed', 'failed', 'cancelled')`).all(sinceMs) as {
    role: string; status: string; started_at: number | null; finished_at: number; cost: number | null; tin: number | null; tout: number | null; tcache: number | null; turns: number | null;
  }[];
  const minutes = Math.max(1 / 60, (now - sinceMs) / 60_000);
  const byRole = new Map<string, typeof rows>();
  for (const r of rows) byRole.set(r.role, [...(byRole.get(r.role) ?? []), r]);
  return [...byRole].map(([role, rs]) => {
    const completed = rs.filter((r) => r.status === 'completed');
    const failed = rs.filter((r) => r.status === 'failed').length;
    const durations = completed.filter((r) => r.started_at !== null).map((r) => (r.finished_at - (r.started_at as number)) / 1000).sort((a, b) => a - b);
    const sum = (f: (r: (typeof rs)[number]) => number | null) => rs.reduce((a, r) => a + (f(r) ?? 0), 0);
    return {
      role,
      completed: completed.length,
      failed,
      cancelled: rs.filter((r) => r.status === 'cancelled').length,
      error_rate: completed.length + failed ? failed / (completed.length + failed) : 0,
      throughput_per_min: completed.length / minutes,
      duration_seconds: { p50: pct(durations, 0.5), p95: pct(durations, 0.95), p99: pct(durations, 0.99), max: durations.at(-1) ?? null },
      llm: { cost_usd: sum((r) => r.cost), input_tokens: sum((r) => r.tin), output_tokens: sum((r) => r.tout), cache_tokens: sum((r) => r.tcache), turns: sum((r) => r.turns) },
    };
  }).sort((a, b) => a.role.localeCompare(b.role));
}
