import type { TaskWithHistory } from '../../queue/Task.js';
import { ApiClient } from '../client.js';
import { EXIT } from '../CliError.js';
import { fmtDuration, table } from '../format.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';

/** The cause of the task's last ended attempt (`completed`, `supervisor_stopped`, …), or '-'. */
export function lastCause(t: TaskWithHistory): string {
  const ended = t.attempt_history.filter((a) => a.cause !== null);
  return ended.at(-1)?.cause ?? '-';
}

/**
 * `TRIES`: attempts used (what `queue.max_attempts` limits), and, when some attempts
 * were given back (a stop, a restart, a lost supervisor), how many there were in all:
 * `1 (of 3)`.
 */
export function triesCell(t: TaskWithHistory): string {
  return t.attempt > t.attempts ? `${t.attempts} (of ${t.attempt})` : String(t.attempts);
}

/**
 * `COST`: what the task's runs spent, every attempt counted (estimated costs of killed
 * runs too), with the task's own `max_cost_usd` after a slash: `$0.61/$0.50`; `-` when
 * no run reported a cost and the task has no limit of its own.
 */
export function costCell(t: TaskWithHistory): string {
  const costs = t.attempt_history.map((a) => a.llm?.total_cost_usd).filter((c): c is number => typeof c === 'number');
  const spent = costs.length ? `$${costs.reduce((x, y) => x + y, 0).toFixed(2)}` : t.max_cost_usd !== null ? '$0.00' : '-';
  return t.max_cost_usd !== null ? `${spent}/$${t.max_cost_usd.toFixed(2)}` : spent;
}

export async function tasksCommand(flags: StateDirFlags & { status?: string; role?: string; limit?: string; json?: boolean }): Promise<number> {
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  const q = new URLSearchParams();
  if (flags.status) q.set('status', flags.status);
  if (flags.role) q.set('role', flags.role);
  q.set('limit', flags.limit ?? '50');
  const { tasks } = await client.call<{ tasks: TaskWithHistory[] }>('GET', `/api/v1/tasks?${q}`);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(tasks, null, 2)}\n`);
    return EXIT.OK;
  }
  if (tasks.length === 0) {
    // Say what was asked for rather than print an empty table.
    const what = [flags.status ? `${flags.status.replace('_', ' ')} ` : '', 'tasks', flags.role ? ` for role ${flags.role}` : ''].join('');
    process.stdout.write(`no ${what}\n`);
    return EXIT.OK;
  }
  const now = Date.now();
  const detail = (t: TaskWithHistory) =>
    t.status === 'pending' && t.not_before !== null && t.not_before > now ? `retry in ${fmtDuration((t.not_before - now) / 1000)} (backoff): ${t.error ?? ''}` : (t.error ?? t.progress_message ?? t.title);
  // A fleet (PostgreSQL): the supervisor that holds (or last ran) each task.
  const fleet = tasks.some((t) => t.attempt_history.some((a) => a.supervisor !== undefined));
  const supervisorOf = (t: TaskWithHistory) => t.attempt_history.at(-1)?.supervisor ?? '-';
  const rows = tasks.map((t) => [
    t.id, t.role, t.status, String(t.priority), triesCell(t), lastCause(t), costCell(t), t.assigned_to ?? '-',
    fmtDuration(((t.finished_at ?? now) - (t.started_at ?? t.created_at)) / 1000),
    t.correlation_id, detail(t).slice(0, 60),
  ]);
  const head = ['ID', 'ROLE', 'STATUS', 'PRIO', 'TRIES', 'LAST CAUSE', 'COST', 'AGENT', 'TIME', 'CORRELATION ID', 'DETAIL'];
  if (fleet) {
    head.splice(8, 0, 'SUPERVISOR');
    tasks.forEach((t, i) => rows[i]?.splice(8, 0, supervisorOf(t)));
  }
  process.stdout.write(`${table(head, rows)}\n`);
  return EXIT.OK;
}
