import { ApiClient } from '../client.js';
import { EXIT } from '../CliError.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';

export async function restartCommand(agent: string, flags: StateDirFlags): Promise<number> {
  const client = ApiClient.fromStateDir(resolveStateDir(flags));
  const r = await client.call<{ replicas: string[] }>('POST', `/api/v1/agents/${encodeURIComponent(agent)}/restart`, {});
  process.stdout.write(`Restart of ${agent} accepted${r.replicas.length ? ` (${r.replicas.join(', ')})` : ''}\n`);
  return EXIT.OK;
}

export async function resetCommand(agent: string, flags: StateDirFlags): Promise<number> {
  const client = ApiClient.fromStateDir(resolveStateDir(flags));
  const r = await client.call<{ replicas: string[] }>('POST', `/api/v1/agents/${encodeURIComponent(agent)}/reset`, {});
  process.stdout.write(`Circuit breaker closed for ${r.replicas.join(', ')}; failed or circuit-open replicas are starting\n`);
  return EXIT.OK;
}
