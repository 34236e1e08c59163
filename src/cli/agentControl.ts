import { ApiClient } from './client.js';
import { EXIT } from './CliError.js';
import { resolveStateDir, type StateDirFlags } from './stateDirOption.js';
import type { ControlBody } from '../server/agentControlRoutes.js'; // the body of POST /api/v1/agents/:name/stop|start; a type only, nothing is loaded

export type ControlFlags = StateDirFlags & { json?: boolean | undefined; reason?: string | undefined };

/** Longest wait for a stop (the agent's stop_timeout, then SIGKILL), ms. */
const STOP_WAIT_MS = 5 * 60_000;

/**
 * `background stop <agent>` and `background start <agent>`: one agent or replica,
 * through the control API; the supervisor keeps the desired state across its restarts.
 * `--json` prints `{"ok":true,"action":"stop","target":"qaa",...}` (the API's answer).
 */
export async function agentControlCommand(action: 'stop' | 'start', target: string, flags: ControlFlags): Promise<number> {
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  if (action === 'stop' && process.stderr.isTTY && !flags.json) process.stderr.write(`Stopping ${target}…\n`);
  const body = action === 'stop' && flags.reason ? { reason: flags.reason } : {};
  const r = await client.call<ControlBody>('POST', `/api/v1/agents/${encodeURIComponent(target)}/${action}`, body, action === 'stop' ? STOP_WAIT_MS : undefined);
  process.stdout.write(flags.json ? `${JSON.stringify({ ok: true, ...r })}\n` : `${controlSummary(r)}\n`);
  return EXIT.OK;
}

const list = (xs: string[]) => xs.join(', ');
const runs = (n: number) => `${n} run${n === 1 ? '' : 's'}`;

/** One sentence: what changed, and what holds from now on. */
export function controlSummary(r: ControlBody): string {
  if (r.action === 'stop') {
    if (r.mode === 'per_task') {
      const ended = r.changed.length ? `; ended ${runs(r.changed.length)} (${list(r.changed)}), their tasks are pending again with no attempt used` : '';
      return `${r.state_changed ? 'Stopped' : 'Already stopped:'} ${r.agent}: no new run starts${ended}. Its tasks wait in the queue until: background start ${r.target}`;
    }
    if (!r.changed.length) return `${r.target} was already stopped (${list(r.unchanged)}): nothing to do. Start it with: background start ${r.target}`;
    return `Stopped ${r.target} (${list(r.changed)}); it stays stopped, across supervisor restarts too, until: background start ${r.target}`;
  }
  if (r.mode === 'per_task') return r.state_changed ? `Started ${r.agent}: it takes tasks from the queue again` : `${r.agent} was not stopped: nothing to do`;
  if (!r.changed.length) {
    const why = r.state_changed ? ' (not in state stopped: a replica in backoff, circuit open or failed is left to its restart policy; background reset closes a breaker)' : '';
    return `${r.target} was not stopped${why}: nothing to start`;
  }
  return `Started ${r.target} (${list(r.changed)})`;
}
