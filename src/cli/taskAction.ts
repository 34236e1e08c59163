import type { TaskStatus, TaskWithHistory } from '../queue/Task.js';
import { ApiClient } from './client.js';
import { CliError, EXIT } from './CliError.js';
import { resolveStateDir, type StateDirFlags } from './stateDirOption.js';

/** The task ids the API accepts (as in `submit --id`). */
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$/;

export type TaskActionName = 'cancel' | 'retry' | 'priority';

const ALLOWED: Record<TaskActionName, { statuses: TaskStatus[]; verb: string }> = {
  cancel: { statuses: ['pending', 'in_progress'], verb: 'cancelled' },
  retry: { statuses: ['failed', 'cancelled'], verb: 'retried' },
  priority: { statuses: ['pending'], verb: 're-prioritised' },
};

/**
 * `POST /api/v1/tasks/:id/<action>` for `background cancel`, `retry` and `priority`,
 * then the task as it is now. Errors are CliErrors that say what to do next:
 * a malformed id, an unknown id or a task in the wrong status exit 2 (EXIT.USAGE),
 * no supervisor exits 3, anything else 1.
 */
export async function taskAction(action: TaskActionName, id: string, flags: StateDirFlags, body: Record<string, unknown> = {}): Promise<TaskWithHistory> {
  if (!TASK_ID.test(id)) throw new CliError(`Expected a task id (letters, digits and _ . : -, as \`background tasks\` shows it), got ${JSON.stringify(id)}.`, EXIT.USAGE, 'bad_task_id');
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  const r = await client.request<{ error?: string; reason?: string; status?: TaskStatus; task?: TaskWithHistory }>('POST', `/api/v1/tasks/${encodeURIComponent(id)}/${action}`, body);
  if (r.status === 404 && (r.body.error === 'unknown_task' || r.body.error === 'not_found')) {
    throw new CliError(`No task ${id} in the queue of the supervisor at ${client.endpoint.url}. List tasks with: agentic-scrum-setup background tasks`, EXIT.USAGE, 'unknown_task');
  }
  if (r.status === 409) {
    const { statuses, verb } = ALLOWED[action];
    const now = (await client.call<{ task: TaskWithHistory }>('GET', `/api/v1/tasks/${encodeURIComponent(id)}`)).task.status;
    const hint = action !== 'retry' ? (now === 'failed' || now === 'cancelled' ? ` To run it again: agentic-scrum-setup background retry ${id}` : '') : now === 'pending' || now === 'in_progress' ? ` To stop it: agentic-scrum-setup background cancel ${id}` : '';
    throw new CliError(`Task ${id} is ${now}: only ${statuses.join(' or ')} tasks can be ${verb}.${hint}`, EXIT.USAGE, 'wrong_status');
  }
  if (r.status >= 400) throw new CliError(r.body.reason ?? r.body.error ?? `HTTP ${r.status}`, r.status < 500 ? EXIT.USAGE : EXIT.FAILED, r.body.error);
  // The task as the action left it (a retried task may be running again a moment later).
  if (r.body.task?.attempt_history) return r.body.task;
  return (await client.call<{ task: TaskWithHistory }>('GET', `/api/v1/tasks/${encodeURIComponent(id)}`)).task;
}
