import { ApiClient } from '../client.js';
import { EXIT } from '../CliError.js';
import { printJson } from '../jsonOutput.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';

interface RestartAnswer {
  replicas: string[];
  /** Present when the target is a per_task agent or slot: the runs ended and where their tasks are now. */
  runs?: { replica: string; task_id: string; status: string | null }[];
}

/** Longest wait for per_task runs to end (their stop_timeout, then SIGKILL), ms. */
const RUN_END_WAIT_MS = 5 * 60_000;

/**
 * `background restart <agent|replica>`; with --json prints
 * `{"ok":true,"action":"restart","target":…,"replicas":[…]}` (and `runs` for a per_task agent).
 */
export async function restartCommand(agent: string, flags: StateDirFlags & { json?: boolean }): Promise<number> {
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  if (process.stderr.isTTY && !flags.json) process.stderr.write(`Restarting ${agent}…\n`);
  const r = await client.call<RestartAnswer>('POST', `/api/v1/agents/${encodeURIComponent(agent)}/restart?wait=1`, {}, RUN_END_WAIT_MS);
  if (flags.json) {
    printJson({ ok: true, action: 'restart', target: agent, replicas: r.replicas, ...(r.runs ? { runs: r.runs } : {}) });
    return EXIT.OK;
  }
  if (r.runs) {
    process.stdout.write(`${perTaskSummary(agent, r.runs)}\n`);
    return EXIT.OK;
  }
  process.stdout.write(`Restart of ${agent} accepted${r.replicas.length ? ` (${r.replicas.join(', ')})` : ''}\n`);
  return EXIT.OK;
}

/** What a restart of a per_task agent did: "Ended 2 runs of deva_ts (…); their tasks are pending again, with no attempt used". */
export function perTaskSummary(agent: string, runs: NonNullable<RestartAnswer['runs']>): string {
  if (runs.length === 0) return `${agent} runs one process per task and none is running: nothing to end`;
  const which = runs.map((x) => `${x.replica}: ${x.task_id}`).join(', ');
  const again = runs.filter((x) => x.status === 'in_progress').map((x) => x.task_id);
  const done = runs.filter((x) => x.status !== 'in_progress' && x.status !== 'pending').map((x) => `${x.task_id} ${x.status ?? 'gone'}`);
  const notes = [again.length ? `${again.join(', ')} already started again` : '', done.length ? `${done.join(', ')}: it ended before the restart reached it` : ''].filter(Boolean);
  return `Ended ${runs.length} run${runs.length === 1 ? '' : 's'} of ${agent} (${which}); their tasks are pending again, with no attempt used${notes.length ? ` (${notes.join('; ')})` : ''}`;
}

/** `background reset <agent>`; with --json prints `{"ok":true,"action":"reset","target":…,"replicas":[…]}`. */
export async function resetCommand(agent: string, flags: StateDirFlags & { json?: boolean }): Promise<number> {
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  const r = await client.call<{ replicas: string[] }>('POST', `/api/v1/agents/${encodeURIComponent(agent)}/reset`, {});
  if (flags.json) {
    printJson({ ok: true, action: 'reset', target: agent, replicas: r.replicas });
    return EXIT.OK;
  }
  process.stdout.write(`Circuit breaker closed for ${r.replicas.join(', ')}; failed or circuit-open replicas are starting\n`);
  return EXIT.OK;
}
