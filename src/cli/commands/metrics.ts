import type { RoleStats } from '../../queue/taskStats.js';
import { fleetLine, type FleetCounts } from '../../supervisor/fleetCounts.js';
import { parseSince } from '../../telemetry/logFilter.js';
import { ApiClient } from '../client.js';
import { CliError, EXIT } from '../CliError.js';
import { bold, fmtBytes, table } from '../format.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';

interface StatsBody {
  window_seconds: number;
  roles: RoleStats[];
  /** Absent from a supervisor older than this CLI. */
  fleet?: FleetCounts;
  agents: { agent: string; replica: string; state: string; cpu_percent: number | null; rss_bytes: number | null; restarts: number }[];
  system: { agents_cpu_percent: number; agents_rss_bytes: number; restarts: number; host_load_1m: number; host_cpus: number; host_memory_used_bytes: number; host_memory_total_bytes: number };
}

const sec = (s: number | null) => (s === null ? '-' : s < 10 ? `${s.toFixed(2)}s` : `${s.toFixed(0)}s`);

/** `background metrics`: the seed's performance statistics, from the supervisor's API (no Prometheus needed). */
export async function metricsCommand(flags: StateDirFlags & { json?: boolean; window?: string }): Promise<number> {
  const window = flags.window ?? '15m';
  if (!/^\d+(\.\d+)?[smhd]$/.test(window) || parseSince(window) === undefined) throw new CliError(`--window: expected a duration like 15m, 1h or 1d, got ${JSON.stringify(window)}`, EXIT.USAGE);
  const client = ApiClient.fromStateDir(resolveStateDir(flags));
  const body = await client.call<StatsBody>('GET', `/api/v1/stats?window=${encodeURIComponent(window)}`);
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return EXIT.OK;
  }
  const w = `${Math.round(body.window_seconds / 60)}m`;
  const out: string[] = [bold(`Tasks (last ${w})`)];
  out.push(table(['ROLE', 'DONE', 'FAILED', 'ERROR RATE', 'TASKS/MIN', 'P50', 'P95', 'P99'], body.roles.map((r) => [
    r.role, String(r.completed), String(r.failed), `${(r.error_rate * 100).toFixed(1)}%`, r.throughput_per_min.toFixed(2), sec(r.duration_seconds.p50), sec(r.duration_seconds.p95), sec(r.duration_seconds.p99),
  ])));
  const llm = body.roles.filter((r) => r.llm.turns > 0 || r.llm.cost_usd > 0);
  if (llm.length) {
    out.push('', bold(`LLM usage (last ${w})`));
    out.push(table(['ROLE', 'COST', 'TURNS', 'INPUT', 'OUTPUT', 'CACHE'], llm.map((r) => [r.role, `$${r.llm.cost_usd.toFixed(4)}`, String(r.llm.turns), String(r.llm.input_tokens), String(r.llm.output_tokens), String(r.llm.cache_tokens)])));
  }
  out.push('', bold(`Agents (now)${body.fleet ? `: ${fleetLine(body.fleet)}` : ''}`));
  out.push(table(['REPLICA', 'STATE', 'CPU', 'RSS', 'RESTARTS'], body.agents.map((a) => [a.replica, a.state, a.cpu_percent === null ? '-' : `${a.cpu_percent.toFixed(1)}%`, fmtBytes(a.rss_bytes), String(a.restarts)])));
  const s = body.system;
  out.push('', `System: agents use ${s.agents_cpu_percent.toFixed(1)}% CPU and ${fmtBytes(s.agents_rss_bytes)}; ${s.restarts} restarts; host load ${s.host_load_1m.toFixed(2)} on ${s.host_cpus} CPUs, memory ${fmtBytes(s.host_memory_used_bytes)} of ${fmtBytes(s.host_memory_total_bytes)}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return EXIT.OK;
}
