import { lastProgressText } from '../../health/format.js';
import { fleetLine, type FleetCounts } from '../../supervisor/fleetCounts.js';
import type { AgentStatus } from '../../supervisor/statusSnapshot.js';
import { ApiClient } from '../client.js';
import { EXIT } from '../CliError.js';
import { dim, fmtBytes, fmtDuration, green, red, table, yellow } from '../format.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';
import { runsTable } from './statusRuns.js';

interface StatusBody {
  supervisor: { pid: number; started_at: string; version: string; state_dir: string };
  agents: AgentStatus[];
  /** Absent from a supervisor older than this CLI. */
  fleet?: FleetCounts;
  queue: { pending: number; in_progress: number };
}

export function colorState(a: AgentStatus): string {
  switch (a.state) {
    case 'running': return a.task ? green('busy') : green('running');
    case 'idle': return green('idle');
    case 'starting': return yellow('starting');
    case 'stopping': return yellow('stopping');
    case 'backoff': return yellow(`restarting${a.restart_at ? ` in ${fmtDuration((Date.parse(a.restart_at) - Date.now()) / 1000)}` : ''}`);
    case 'circuit_open': return red(`circuit open${a.restart_at ? ` until ${a.restart_at.slice(11, 19)}` : ''}`);
    case 'failed': return red('failed');
    default: return dim(a.state);
  }
}

export async function statusCommand(flags: StateDirFlags & { json?: boolean }): Promise<number> {
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  const body = await client.call<StatusBody>('GET', '/api/v1/status');
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return EXIT.OK;
  }
  const rows = body.agents.map((a) => [
    a.agent,
    a.role,
    a.mode === 'per_task' ? `${a.concurrency?.running ?? 0}/${a.concurrency?.max ?? 0} slots` : a.replica,
    colorState(a),
    a.pid ? String(a.pid) : '-',
    fmtDuration(a.uptime_seconds),
    String(a.restarts),
    a.task ? `${a.task.id}${a.task.progress !== null ? ` ${Math.round(a.task.progress * 100)}%` : ''}${a.task.last_progress_seconds !== undefined ? `, ${lastProgressText(a.task.last_progress_seconds)}` : ''}` : '-',
    a.cpu_percent === null ? '-' : `${a.cpu_percent.toFixed(1)}%`,
    fmtBytes(a.rss_bytes),
  ]);
  process.stdout.write(`Supervisor pid ${body.supervisor.pid}, up since ${body.supervisor.started_at}; queue: ${body.queue.pending} pending, ${body.queue.in_progress} in progress\n`);
  if (body.fleet) process.stdout.write(`${fleetLine(body.fleet)}\n`);
  process.stdout.write(`${table(['AGENT', 'ROLE', 'REPLICA', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'TASK', 'CPU', 'RSS'], rows)}\n`);
  const runs = runsTable(body.agents);
  if (runs) process.stdout.write(`\nper_task runs (~: cost so far at the model's list price; the cost charged comes with the result):\n${runs}\n`);
  return EXIT.OK;
}
