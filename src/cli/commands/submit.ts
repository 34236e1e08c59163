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
  maxTurns?: string;
  maxCostUsd?: string;
  json?: boolean;
}

/** A numeric flag within [min, max] (an integer when `integer`), or undefined when not given; a bad value is a usage error. */
function numberFlag(flag: string, text: string | undefined, min: number, max: number, integer: boolean, what: string): number | undefined {
  if (text === undefined) return undefined;
  const n = /^\s*$/.test(text) ? NaN : Number(text);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n)) || n < min || n > max) {
    throw new CliError(`${flag}: expected ${what} from ${min} to ${max}, got ${JSON.stringify(text)}`, EXIT.USAGE);
  }
  return n;
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
  // The API's bounds (and the config's for the agent keys of the same names).
  const maxTurns = numberFlag('--max-turns', flags.maxTurns, 1, 100_000, true, 'an integer');
  const maxCostUsd = numberFlag('--max-cost-usd', flags.maxCostUsd, 0.0001, 1_000_000, false, 'US dollars');
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  const body = { role, title: flags.title, prompt: flags.prompt, payload, priority, id: flags.id, max_turns: maxTurns, max_cost_usd: maxCostUsd };
  const { task } = await client.call<{ task: Task }>('POST', '/api/v1/tasks', body);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(task, null, 2)}\n`);
    return EXIT.OK;
  }
  const limits = [task.max_turns !== null ? `max_turns ${task.max_turns}` : '', task.max_cost_usd !== null ? `max_cost_usd $${task.max_cost_usd}` : ''].filter(Boolean);
  process.stdout.write(`Submitted ${task.id} to ${task.role} (priority ${task.priority}${limits.length ? `; its own ${limits.join(', ')}` : ''})\n  correlation id: ${task.correlation_id}\n  follow it: agentic-scrum-setup background logs --correlation-id ${task.correlation_id}\n`);
  return EXIT.OK;
}
