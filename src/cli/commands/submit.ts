import type { Task } from '../../queue/Task.js';
import { ApiClient } from '../client.js';
import { CliError, EXIT } from '../CliError.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';

export interface SubmitFlags extends StateDirFlags {
  title?: string;
  prompt?: string;
  payload?: string;
  priority?: string;
  id?: string;
  json?: boolean;
}

export async function submitCommand(role: string, flags: SubmitFlags): Promise<number> {
  if (!flags.title) throw new CliError('Missing --title "<text>".', EXIT.USAGE);
  let payload: unknown;
  if (flags.payload !== undefined) {
    try {
      payload = JSON.parse(flags.payload);
    } catch (err) {
      throw new CliError(`--payload: expected JSON, got ${JSON.stringify(flags.payload)} (${(err as Error).message})`, EXIT.USAGE);
    }
  }
  let priority: number | undefined;
  if (flags.priority !== undefined) {
    priority = Number(flags.priority);
    if (!Number.isInteger(priority) || priority < 1 || priority > 10) throw new CliError(`--priority: expected an integer from 1 to 10, got ${JSON.stringify(flags.priority)}`, EXIT.USAGE);
  }
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  const { task } = await client.call<{ task: Task }>('POST', '/api/v1/tasks', { role, title: flags.title, prompt: flags.prompt, payload, priority, id: flags.id });
  if (flags.json) process.stdout.write(`${JSON.stringify(task, null, 2)}\n`);
  else process.stdout.write(`Submitted ${task.id} to ${task.role} (priority ${task.priority})\n  correlation id: ${task.correlation_id}\n  follow it: agentic-scrum-setup background logs --correlation-id ${task.correlation_id}\n`);
  return EXIT.OK;
}
