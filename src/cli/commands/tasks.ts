import type { Task } from '../../queue/Task.js';
import { ApiClient } from '../client.js';
import { EXIT } from '../CliError.js';
import { fmtDuration, table } from '../format.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';

export async function tasksCommand(flags: StateDirFlags & { status?: string; role?: string; limit?: string; json?: boolean }): Promise<number> {
  const client = ApiClient.fromStateDir(resolveStateDir(flags));
  const q = new URLSearchParams();
  if (flags.status) q.set('status', flags.status);
  if (flags.role) q.set('role', flags.role);
  q.set('limit', flags.limit ?? '50');
  const { tasks } = await client.call<{ tasks: Task[] }>('GET', `/api/v1/tasks?${q}`);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(tasks, null, 2)}\n`);
    return EXIT.OK;
  }
  const now = Date.now();
  const rows = tasks.map((t) => [
    t.id, t.role, t.status, String(t.priority), String(t.attempts), t.assigned_to ?? '-',
    fmtDuration(((t.finished_at ?? now) - (t.started_at ?? t.created_at)) / 1000),
    t.correlation_id, (t.error ?? t.progress_message ?? t.title).slice(0, 60),
  ]);
  process.stdout.write(`${table(['ID', 'ROLE', 'STATUS', 'PRIO', 'TRIES', 'AGENT', 'TIME', 'CORRELATION ID', 'DETAIL'], rows)}\n`);
  return EXIT.OK;
}
