import { isAlive } from '../../supervisor/procfs.js';
import { ApiClient } from '../client.js';
import { CliError, EXIT } from '../CliError.js';
import { printJson } from '../jsonOutput.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';

/**
 * Graceful stop: the supervisor stops every agent group (SIGTERM, then SIGKILL), then exits.
 * With --json prints `{"ok":true,"action":"stop","pid":…,"state_dir":…}` once it has exited.
 * With an agent (`stop qaa`, `stop qaa-1`): only that agent or replica, which stays stopped until started.
 */
export async function stopCommand(agent: string | undefined, flags: StateDirFlags & { timeout?: string; json?: boolean }): Promise<number> {
  if (agent !== undefined) return (await import('../agentControl.js')).agentControlCommand('stop', agent, flags);
  const dir = await resolveStateDir(flags);
  const client = ApiClient.fromStateDir(dir);
  await client.call('POST', '/api/v1/shutdown', {});
  const pid = client.endpoint.pid;
  const timeoutMs = Number(flags.timeout ?? 60) * 1000;
  const deadline = Date.now() + timeoutMs;
  const tty = process.stderr.isTTY && !flags.json;
  if (tty) process.stderr.write(`Stopping supervisor (pid ${pid})`);
  while (Date.now() < deadline) {
    if (!isAlive(pid)) {
      if (flags.json) printJson({ ok: true, action: 'stop', pid, state_dir: dir.root });
      else if (tty) process.stderr.write(' stopped\n');
      else process.stdout.write(`Supervisor (pid ${pid}) stopped\n`);
      return EXIT.OK;
    }
    if (tty) process.stderr.write('.');
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new CliError(`The supervisor (pid ${pid}) is still running after ${timeoutMs / 1000}s. Agents may be slow to stop; check ${dir.logDir}/supervisor.log, or send SIGKILL to ${pid} as a last resort (the next start cleans up its agents).`, EXIT.FAILED);
}
