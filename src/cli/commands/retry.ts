import { EXIT } from '../CliError.js';
import type { StateDirFlags } from '../stateDirOption.js';
import { taskAction } from '../taskAction.js';

/**
 * `background retry <task-id> [--reason text]`: a failed (dead-lettered) or cancelled
 * task goes back to pending with its attempts reset to 0; its attempt history is kept
 * and the retry recorded with the reason. Exits 0 when queued again, 2 for an unknown
 * id or a task that is not failed or cancelled, 3 when no supervisor runs.
 */
export async function retryCommand(id: string, flags: StateDirFlags & { json?: boolean; reason?: string }): Promise<number> {
  const task = await taskAction('retry', id, flags, flags.reason ? { reason: flags.reason } : {});
  if (flags.json) process.stdout.write(`${JSON.stringify(task, null, 2)}\n`);
  else {
    const before = task.attempt_history.length;
    process.stdout.write(`${task.id} is pending again with its attempts reset (${before} earlier attempt${before === 1 ? '' : 's'} kept in its history).\n  follow it: agentic-scrum-setup background logs --task ${task.id} --follow\n`);
  }
  return EXIT.OK;
}
