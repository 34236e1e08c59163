import { ApiClient } from '../client.js';
import { CliError, EXIT } from '../CliError.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';
import type { ScaleResult } from '../../supervisor/AgentScale.js'; // the body of POST /api/v1/agents/:name/scale; a type only, nothing is loaded

/** The bound of the config's `replicas` (src/supervisor/AgentScale.ts, MAX_REPLICAS). */
const MAX_REPLICAS = 1000;
/** Longest wait for the replicas removed to stop (their stop_timeout, then SIGKILL), ms. */
const STOP_WAIT_MS = 5 * 60_000;

/** `background scale <agent> <n>`: a service agent to n replicas; prints what changed. */
export async function scaleCommand(agent: string, replicas: string, flags: StateDirFlags & { json?: boolean }): Promise<number> {
  const n = /^\d{1,9}$/.test(replicas) ? Number(replicas) : NaN;
  if (!(n >= 1 && n <= MAX_REPLICAS)) {
    const instead = n === 0 ? `; to take every replica out, stop the agent instead: agentic-scrum-setup background stop ${agent}` : '';
    throw new CliError(`Expected <replicas> to be a whole number from 1 to ${MAX_REPLICAS}, got ${JSON.stringify(replicas)}${instead}`, EXIT.USAGE);
  }
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  const r = await client.call<ScaleResult>('POST', `/api/v1/agents/${encodeURIComponent(agent)}/scale`, { replicas: n }, STOP_WAIT_MS);
  process.stdout.write(flags.json ? `${JSON.stringify({ ok: true, ...r })}\n` : `${scaleSummary(r)}\n`);
  return EXIT.OK;
}

const plural = (n: number) => `${n} replica${n === 1 ? '' : 's'}`;

/** "Scaled qaa from 2 to 3 replicas: started qaa-2 (kept across supervisor restarts until the config's replicas changes)". */
export function scaleSummary(r: ScaleResult): string {
  if (r.from === r.to && !r.started.length && !r.stopped.length) return `${r.agent} already has ${plural(r.to)}: nothing to do`;
  const what = [
    r.started.length ? `started ${r.started.join(', ')}` : '',
    r.held.length ? `added ${r.held.join(', ')}, stopped like the rest of ${r.agent} (background start ${r.agent})` : '',
    r.stopped.length ? `stopped ${r.stopped.join(', ')} (a task in progress went back to the queue, no attempt used)` : '',
  ].filter(Boolean).join('; ');
  const kept = r.persisted ? 'kept across supervisor restarts until the config\'s replicas changes' : 'the config\'s own count again';
  return `Scaled ${r.agent} from ${r.from} to ${plural(r.to)}${what ? `: ${what}` : ''} (${kept})`;
}
