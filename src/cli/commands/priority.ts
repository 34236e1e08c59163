import { CliError, EXIT } from '../CliError.js';
import type { StateDirFlags } from '../stateDirOption.js';
import { taskAction } from '../taskAction.js';

/**
 * `background priority <task-id> <1-10>`: a pending task gets another priority (higher
 * runs first; among equal priorities the oldest runs first). Exits 0 when changed, 2 for
 * a priority outside 1..10, an unknown id or a task that is not pending, 3 when no
 * supervisor runs.
 */
export async function priorityCommand(id: string, value: string, flags: StateDirFlags & { json?: boolean }): Promise<number> {
  if (!/^(10|[1-9])$/.test(value.trim())) throw new CliError(`Expected a priority from 1 (lowest) to 10 (highest), got ${JSON.stringify(value)}.`, EXIT.USAGE, 'bad_priority');
  const priority = Number(value.trim());
  const task = await taskAction('priority', id, flags, { priority });
  if (flags.json) process.stdout.write(`${JSON.stringify(task, null, 2)}\n`);
  else process.stdout.write(`${task.id} now has priority ${task.priority} (${task.status}); pending tasks of role ${task.role} run highest priority first.\n`);
  return EXIT.OK;
}
