import { EXIT } from '../CliError.js';
import type { StateDirFlags } from '../stateDirOption.js';
import { taskAction } from '../taskAction.js';

/**
 * `background cancel <task-id>`: a pending task is cancelled; a running one is told to
 * stop (`task.cancel` to a service agent, its process stopped for a per_task run).
 * Exits 0 when cancelled, 2 for an unknown id or a task that is not pending or in
 * progress, 3 when no supervisor runs.
 */
export async function cancelCommand(id: string, flags: StateDirFlags & { json?: boolean }): Promise<number> {
  const task = await taskAction('cancel', id, flags);
  if (flags.json) process.stdout.write(`${JSON.stringify(task, null, 2)}\n`);
  else process.stdout.write(`Cancelled ${task.id}${task.assigned_to ? ` (it was running on ${task.assigned_to}, which is told to stop)` : ''}. Run it again with: agentic-scrum-setup background retry ${task.id}\n`);
  return EXIT.OK;
}
