import path from 'node:path';
import { ApiClient } from '../client.js';
import { EXIT } from '../CliError.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';
import type { ReloadedAgent, ReloadResult } from '../../supervisor/FleetReload.js'; // the body of POST /api/v1/reload; a type only, nothing is loaded

/** Longest wait for removed and restarted agents to stop (their stop_timeout, then SIGKILL), ms. */
const RELOAD_WAIT_MS = 5 * 60_000;

/**
 * `background reload [--config <file>]`: applies a changed config to the running
 * supervisor and prints what changed. The file is checked here first, so an invalid
 * one gets the loader's own error (exit 2) and never reaches the supervisor, which
 * loads it again (with the flags and environment it started with) and refuses
 * settings that cannot change live (exit 2). Without --config: the file the
 * supervisor runs.
 */
export async function reloadCommand(flags: StateDirFlags & { json?: boolean }): Promise<number> {
  let file: string | undefined;
  if (flags.config) {
    const { loadConfig } = await import('../../config/loadConfig.js');
    loadConfig(flags.config); // ConfigError → exit 2, the fleet untouched
    file = path.resolve(flags.config);
  }
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  if (process.stderr.isTTY && !flags.json) process.stderr.write(`Reloading ${file ?? 'the supervisor\'s config'}…\n`);
  const r = await client.call<ReloadResult>('POST', '/api/v1/reload', file ? { config_file: file } : {}, RELOAD_WAIT_MS);
  process.stdout.write(flags.json ? `${JSON.stringify({ ok: true, ...r })}\n` : `${reloadSummary(r)}\n`);
  return EXIT.OK;
}

const list = (xs: string[]) => xs.join(', ');

function processes(a: ReloadedAgent): string {
  const parts = [
    a.stopped.length ? `stopped ${list(a.stopped)}` : '',
    a.started.length ? `started ${list(a.started)}` : '',
    a.held.length ? `${list(a.held)} left stopped (background stop; start with: background start ${a.agent})` : '',
  ].filter(Boolean);
  return parts.length ? `: ${parts.join('; ')}` : '';
}

/** One line per agent touched, then the unchanged ones and any warning. */
export function reloadSummary(r: ReloadResult): string {
  const lines = [`Reloaded ${r.file ?? 'the config'}:`];
  for (const a of r.added) lines.push(`  added     ${a.agent} (${a.mode})${processes(a)}`);
  for (const a of r.removed) lines.push(`  removed   ${a.agent}${processes(a)}${a.stopped.length ? ' (a task in progress went back to the queue, no attempt used)' : ''}`);
  for (const c of r.changed) lines.push(`  changed   ${c.agent} [${list(c.keys)}] ${c.restarted ? 'restarted' : 'not restarted'}${processes(c)}`);
  lines.push(`  unchanged ${r.unchanged.length ? `${list(r.unchanged)} (not touched)` : '(none)'}`);
  if (!r.added.length && !r.removed.length && !r.changed.length) lines[0] = `Reloaded ${r.file ?? 'the config'}: nothing changed`;
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
