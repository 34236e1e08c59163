import path from 'node:path';
import type { Db } from './Database.js';
import { DiskFullError } from './DiskFullError.js';

/** One finished per_task run, as stored. Token and cost fields are null when the run reported none. */
export interface RunRecord {
  task_id: string;
  agent: string;
  role: string;
  slot: string;
  attempt: number;
  started_at: number;
  finished_at: number;
  outcome: string;
  cause: string | null;
  error: string | null;
  cost_usd: number | null;
  turns: number | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cache_creation_tokens: number | null;
  cache_read_tokens: number | null;
}

/** LLM usage of the runs of one role that finished in a window. */
export interface RoleRunUsage {
  role: string;
  runs: number;
  cost_usd: number;
  turns: number;
  input_tokens: number;
  output_tokens: number;
  cache_creation_tokens: number;
  cache_read_tokens: number;
}

/**
 * Durable record of finished per_task runs, one row per run (every attempt, the
 * failed ones too), so that `background metrics` sums the same usage /metrics
 * counts. Bounded: the newest `retention` rows are kept.
 */
export class RunLedger {
  private readonly stmts;
  private writes = 0;

  constructor(private readonly db: Db, private readonly retention = 50_000, private readonly onDiskFull?: (err: DiskFullError) => void) {
    this.stmts = {
      insert: db.prepare(`INSERT INTO task_runs (task_id, agent, role, slot, attempt, started_at, finished_at, outcome, cause, error, cost_usd, turns, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens)
        VALUES (@task_id, @agent, @role, @slot, @attempt, @started_at, @finished_at, @outcome, @cause, @error, @cost_usd, @turns, @input_tokens, @output_tokens, @cache_creation_tokens, @cache_read_tokens)`),
      last: db.prepare('SELECT * FROM task_runs WHERE agent = ? ORDER BY finished_at DESC, id DESC LIMIT 1'),
      ofTask: db.prepare('SELECT * FROM task_runs WHERE task_id = ? ORDER BY id'),
      usage: db.prepare(`SELECT role, COUNT(*) AS runs, TOTAL(cost_usd) AS cost_usd, TOTAL(turns) AS turns, TOTAL(input_tokens) AS input_tokens, TOTAL(output_tokens) AS output_tokens,
          TOTAL(cache_creation_tokens) AS cache_creation_tokens, TOTAL(cache_read_tokens) AS cache_read_tokens
        FROM task_runs WHERE finished_at >= ? GROUP BY role ORDER BY role`),
      costs: db.prepare('SELECT role, finished_at, cost_usd FROM task_runs WHERE finished_at >= ? AND cost_usd > 0 ORDER BY finished_at'),
      prune: db.prepare('DELETE FROM task_runs WHERE id <= (SELECT MAX(id) FROM task_runs) - ?'),
    };
  }

  /** Records a finished run. A row the disk refuses is told to `onDiskFull` and left out (the task's own record is what counts). */
  record(run: RunRecord): void {
    try {
      this.stmts.insert.run(run);
      if (++this.writes % 500 === 0) this.stmts.prune.run(this.retention);
    } catch (err) {
      const e = DiskFullError.from(err, path.dirname(this.db.name), `record the run of task ${run.task_id}`);
      if (!e) throw err;
      this.onDiskFull?.(e);
    }
  }

  /** The agent's most recently finished run. */
  last(agent: string): RunRecord | undefined {
    return this.stmts.last.get(agent) as RunRecord | undefined;
  }

  /** Every recorded run of a task, oldest first. */
  ofTask(taskId: string): RunRecord[] {
    return this.stmts.ofTask.all(taskId) as RunRecord[];
  }

  /** The cost of every run that finished at or after `sinceMs`, oldest first (budgets reload it at start). */
  costsSince(sinceMs: number): { role: string; finished_at: number; cost_usd: number }[] {
    return this.stmts.costs.all(sinceMs) as { role: string; finished_at: number; cost_usd: number }[];
  }

  /** Usage of the runs that finished at or after `sinceMs`, by role. */
  usageSince(sinceMs: number): RoleRunUsage[] {
    return this.stmts.usage.all(sinceMs) as RoleRunUsage[];
  }
}
