import type { Db } from './Database.js';

/** Totals of a group of per_task runs. */
export interface UsageTotals {
  runs: number;
  cost_usd: number;
  turns: number;
  input_tokens: number;
  output_tokens: number;
  cache_tokens: number;
}

/** `GET /api/v1/llm` and `background metrics --llm`: where the LLM money went, from the run ledger. */
export interface LlmReport {
  since: number;
  until: number;
  total: UsageTotals;
  by_role: (UsageTotals & { role: string })[];
  /** Calendar days (UTC), oldest first. */
  by_day: (UsageTotals & { day: string })[];
  /**
   * The most expensive stories (tasks), every attempt's runs counted: ten, or as many as
   * asked (`GET /api/v1/llm?stories=N`, `background metrics --llm --by story`). A story is
   * a task (its id, such as STORY_318); per-story cost lives here, not in a metric label.
   */
  top_stories: (UsageTotals & { task_id: string; role: string; title: string | null; status: string | null })[];
  /** Cost of the runs that were a second or later attempt of their task, and its share of the total. */
  retries: { runs: number; cost_usd: number; share: number };
  /** Cost of runs that did not complete (failed, killed, released), and its share. */
  not_completed: { runs: number; cost_usd: number; share: number };
}

const TOTALS = `COUNT(*) AS runs, TOTAL(cost_usd) AS cost_usd, TOTAL(turns) AS turns, TOTAL(input_tokens) AS input_tokens,
  TOTAL(output_tokens) AS output_tokens, TOTAL(cache_creation_tokens) + TOTAL(cache_read_tokens) AS cache_tokens`;

/** Queries over `task_runs` (migration 3) for the LLM report; prepared once. */
export class LlmReportQueries {
  private readonly q;

  constructor(db: Db) {
    this.q = {
      total: db.prepare(`SELECT ${TOTALS} FROM task_runs WHERE finished_at >= ? AND finished_at < ?`),
      role: db.prepare(`SELECT role, ${TOTALS} FROM task_runs WHERE finished_at >= ? AND finished_at < ? GROUP BY role ORDER BY cost_usd DESC, role`),
      day: db.prepare(`SELECT strftime('%Y-%m-%d', finished_at / 1000, 'unixepoch') AS day, ${TOTALS} FROM task_runs WHERE finished_at >= ? AND finished_at < ? GROUP BY day ORDER BY day`),
      top: db.prepare(`SELECT r.task_id, MAX(r.role) AS role, t.title AS title, t.status AS status, COUNT(*) AS runs, TOTAL(r.cost_usd) AS cost_usd,
          TOTAL(r.turns) AS turns, TOTAL(r.input_tokens) AS input_tokens, TOTAL(r.output_tokens) AS output_tokens,
          TOTAL(r.cache_creation_tokens) + TOTAL(r.cache_read_tokens) AS cache_tokens
        FROM task_runs r LEFT JOIN tasks t ON t.id = r.task_id WHERE r.finished_at >= ? AND r.finished_at < ? GROUP BY r.task_id ORDER BY cost_usd DESC, r.task_id LIMIT ?`),
      retries: db.prepare('SELECT COUNT(*) AS runs, TOTAL(cost_usd) AS cost_usd FROM task_runs WHERE finished_at >= ? AND finished_at < ? AND attempt > 1'),
      failed: db.prepare("SELECT COUNT(*) AS runs, TOTAL(cost_usd) AS cost_usd FROM task_runs WHERE finished_at >= ? AND finished_at < ? AND outcome <> 'completed'"),
    };
  }

  /** The report over runs that finished in [since, until), with the `stories` most expensive stories (default 10). */
  report(since: number, until: number, stories = 10): LlmReport {
    const total = this.q.total.get(since, until) as UsageTotals;
    const share = (r: { runs: number; cost_usd: number }) => ({ runs: r.runs, cost_usd: r.cost_usd, share: total.cost_usd > 0 ? r.cost_usd / total.cost_usd : 0 });
    return {
      since, until, total,
      by_role: this.q.role.all(since, until) as LlmReport['by_role'],
      by_day: this.q.day.all(since, until) as LlmReport['by_day'],
      top_stories: this.q.top.all(since, until, stories) as LlmReport['top_stories'],
      retries: share(this.q.retries.get(since, until) as { runs: number; cost_usd: number }),
      not_completed: share(this.q.failed.get(since, until) as { runs: number; cost_usd: number }),
    };
  }
}
