import type { RoleStats } from '../../queue/taskStats.js';
import type { LlmReport, UsageTotals } from '../../store/llmReport.js';
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
const BREAKDOWNS = ['role', 'day', 'story'] as const;
type Breakdown = (typeof BREAKDOWNS)[number];

/** `--by` and `--limit` of `metrics --llm`, checked before anything is asked of the supervisor. */
function breakdownOf(flags: { llm?: boolean; by?: string; limit?: string }): { by: Breakdown | undefined; stories: number | undefined } {
  if ((flags.by !== undefined || flags.limit !== undefined) && !flags.llm) throw new CliError(`--${flags.by !== undefined ? 'by' : 'limit'} goes with --llm: background metrics --llm --by story`, EXIT.USAGE);
  if (flags.by !== undefined && !(BREAKDOWNS as readonly string[]).includes(flags.by)) throw new CliError(`--by: expected one of ${BREAKDOWNS.join(', ')}, got ${JSON.stringify(flags.by)}`, EXIT.USAGE);
  if (flags.limit !== undefined && flags.by !== 'story') throw new CliError('--limit goes with --by story', EXIT.USAGE);
  const by = flags.by as Breakdown | undefined;
  if (by !== 'story') return { by, stories: undefined };
  const n = flags.limit === undefined ? 50 : Number(flags.limit);
  if (!/^\d+$/.test(flags.limit ?? '50') || n < 1 || n > 1000) throw new CliError(`--limit: expected a number of stories from 1 to 1000, got ${JSON.stringify(flags.limit)}`, EXIT.USAGE);
  return { by, stories: n };
}

export async function metricsCommand(flags: StateDirFlags & { json?: boolean; window?: string; llm?: boolean; by?: string; limit?: string }): Promise<number> {
  const window = flags.window ?? (flags.llm ? '7d' : '15m');
  if (!/^\d+(\.\d+)?[smhd]$/.test(window) || parseSince(window) === undefined) throw new CliError(`--window: expected a duration like 15m, 1h or 1d, got ${JSON.stringify(window)}`, EXIT.USAGE);
  const breakdown = breakdownOf(flags);
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  if (flags.llm) return llmReportCommand(client, window, flags.json === true, breakdown);
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

const usd = (v: number) => `$${v.toFixed(v >= 100 ? 0 : 2)}`;
const count = (v: number) => (v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : v >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : String(Math.round(v)));
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

/**
 * `background metrics --llm`: the LLM report from `GET /api/v1/llm`; with `--by`, one
 * breakdown only (`--by story`: every story of the window, most expensive first, up to
 * `--limit`; with `--json`, the breakdown's rows).
 */
async function llmReportCommand(client: ApiClient, window: string, json: boolean, b: { by: Breakdown | undefined; stories: number | undefined }): Promise<number> {
  const r = await client.call<LlmReport>('GET', `/api/v1/llm?window=${encodeURIComponent(window)}${b.stories ? `&stories=${b.stories}` : ''}`);
  const rows = { role: r.by_role, day: r.by_day, story: r.top_stories };
  if (json) {
    process.stdout.write(`${JSON.stringify(b.by ? rows[b.by] : r, null, 2)}\n`);
    return EXIT.OK;
  }
  if (r.total.runs === 0) {
    process.stdout.write(`no LLM runs finished in the last ${window}\n`);
    return EXIT.OK;
  }
  const cols = ['RUNS', 'COST', 'TURNS', 'INPUT', 'OUTPUT', 'CACHE'];
  const row = (t: UsageTotals) => [String(t.runs), usd(t.cost_usd), count(t.turns), count(t.input_tokens), count(t.output_tokens), count(t.cache_tokens)];
  const tables: Record<Breakdown, () => string> = {
    role: () => table(['ROLE', ...cols], r.by_role.map((x) => [x.role, ...row(x)])),
    day: () => table(['DAY', ...cols], r.by_day.map((x) => [x.day, ...row(x)])),
    story: () => table(['TASK', 'ROLE', 'STATUS', 'TITLE', ...cols], r.top_stories.map((x) => [x.task_id, x.role, x.status ?? '-', (x.title ?? '-').slice(0, 40), ...row(x)])),
  };
  const out: string[] = [bold(`LLM spending (last ${window}): ${usd(r.total.cost_usd)} over ${r.total.runs} runs`)];
  if (b.by === 'story') {
    const shown = r.top_stories.reduce((n, x) => n + x.cost_usd, 0);
    out.push('', bold(`By story (${r.top_stories.length} most expensive, ${usd(shown)} of ${usd(r.total.cost_usd)})`), tables.story());
  } else if (b.by) {
    out.push('', bold(b.by === 'role' ? 'By role' : 'By day (UTC)'), tables[b.by]());
  } else {
    out.push('', bold('By role'), tables.role());
    out.push('', bold('By day (UTC)'), tables.day());
    out.push('', bold('Most expensive stories'), tables.story());
    out.push('', `Retries (second and later attempts): ${usd(r.retries.cost_usd)} over ${r.retries.runs} runs, ${pct(r.retries.share)} of the cost; runs that did not complete: ${usd(r.not_completed.cost_usd)}, ${pct(r.not_completed.share)}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return EXIT.OK;
}
