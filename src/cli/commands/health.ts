import { lastProgressText } from '../../health/format.js';
import type { AgentHealthJson, CheckJson, FindingJson, HealthReportJson } from '../../health/report.js';
import { CHECK_NAMES, type Verdict } from '../../health/types.js';
import { fleetLine } from '../../supervisor/fleetCounts.js';
import { ApiClient } from '../client.js';
import { CliError, EXIT } from '../CliError.js';
import { bold, dim, fmtDuration, green, red, table, useColor, yellow } from '../format.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';

/** Exit status of `background health`: 0 healthy, 1 degraded, 2 unhealthy (3: no supervisor, from ApiClient). */
export const HEALTH_EXIT: Record<Verdict, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/**
 * Exit status of `background health --agent X` when the supervisor has no agent
 * or replica X: 64 (EX_USAGE in sysexits.h), not the usual usage code 2, which
 * `health` already uses for "unhealthy" (and 3 means no supervisor).
 */
export const HEALTH_EXIT_NO_SUCH_AGENT = 64;

const HEADERS: Record<(typeof CHECK_NAMES)[number], string> = {
  agent_response: 'RESPONSE', resource_usage: 'RESOURCES', task_progress: 'PROGRESS', memory_leaks: 'MEMORY', connectivity: 'CONNECTIVITY',
};

type Paint = (s: string) => string;
interface Palette { green: Paint; yellow: Paint; red: Paint; dim: Paint; bold: Paint }

const palette = (on: boolean): Palette => ({
  green: (s) => green(s, on), yellow: (s) => yellow(s, on), red: (s) => red(s, on), dim: (s) => dim(s, on), bold: (s) => bold(s, on),
});

function verdictText(v: Verdict, p: Palette): string {
  return v === 'healthy' ? p.green('healthy') : v === 'degraded' ? p.yellow('degraded') : p.red(p.bold('UNHEALTHY'));
}

function checkCell(c: CheckJson, p: Palette): string {
  switch (c.status) {
    case 'healthy': return p.green(c.summary === 'warming up' ? 'warming up' : 'ok');
    case 'degraded': return p.yellow('degraded');
    case 'unhealthy': return p.red('UNHEALTHY');
    case 'disabled': return p.dim('off');
    case 'pending': return p.dim('…');
    default: return p.dim('-');
  }
}

function findingLine(f: FindingJson, now: number, p: Palette): string {
  const mark = f.severity === 'unhealthy' ? p.red('✗') : p.yellow('!');
  const when = `since ${f.since.slice(11, 19)}, detected ${fmtDuration((now - Date.parse(f.detected_at)) / 1000)} ago`;
  return `  ${mark} ${p.bold(f.check)}/${f.kind} ${p.dim(`(${when})`)}\n    ${f.message}`;
}

function capacityLine(r: HealthReportJson): string {
  return Object.entries(r.system.capacity)
    .map(([role, c]) => `${role} ${c.healthy}/${c.configured} healthy${c.up !== c.configured ? ` (${c.up} up)` : ''}${c.busy ? `, ${c.busy} busy` : ''}`)
    .join('; ');
}

/** The readable report: system line, capacity, one row per replica with each check, then every finding with its diagnosis. */
export function renderHealth(r: HealthReportJson, color: boolean, now = Date.now()): string {
  const p = palette(color);
  const s = r.system;
  const checked = r.checked_at ? `, checked ${fmtDuration((now - Date.parse(r.checked_at)) / 1000)} ago` : ', not checked yet';
  const out: string[] = [
    `System: ${verdictText(s.verdict, p)} — ${fleetLine(s)}${checked}`,
    `Capacity: ${capacityLine(r) || 'no agents configured'}`,
  ];
  if (s.resources) {
    const res = s.resources;
    const disks = res.disks.map((d) => `${d.used_percent}% of ${d.path}`).join(', ');
    out.push(p.dim(`Host: CPU ${res.cpu_percent ?? '-'}% of ${res.cores} cores, memory ${res.memory.used_percent}% used${disks ? `, disk ${disks}` : ''}`));
  }
  for (const f of s.findings) out.push(findingLine(f, now, p));
  out.push('');
  const rows = r.agents.map((a: AgentHealthJson) => [a.replica, a.state, verdictText(a.verdict, p), ...CHECK_NAMES.map((c) => checkCell(a.checks[c], p)), a.task_id ? `${a.task_id}${typeof a.last_progress_seconds === 'number' ? `, ${lastProgressText(a.last_progress_seconds)}` : ''}` : '-']);
  out.push(table(['REPLICA', 'STATE', 'VERDICT', ...CHECK_NAMES.map((c) => HEADERS[c]), 'TASK'], rows));
  const findings = r.agents.flatMap((a) => a.findings);
  if (findings.length) {
    out.push('', 'Findings:');
    for (const f of findings) out.push(findingLine(f, now, p));
  }
  return `${out.join('\n')}\n`;
}

/**
 * `background health [--json] [--agent X]`: prints the health report and exits
 * 0 healthy, 1 degraded or 2 unhealthy (the system verdict, or the agent's with
 * --agent); 3 when no supervisor is running.
 * @throws CliError (exit 64) for an unknown agent, (exit 3) when no supervisor answers.
 */
export async function healthCommand(flags: StateDirFlags & { json?: boolean; agent?: string }): Promise<number> {
  const client = ApiClient.fromStateDir(await resolveStateDir(flags));
  const query = flags.agent ? `?agent=${encodeURIComponent(flags.agent)}` : '';
  const res = await client.request<HealthReportJson & { error?: string; reason?: string }>('GET', `/api/v1/health${query}`);
  if (res.status === 404 && res.body.error === 'unknown_agent') {
    // The reason names the agents and replicas the supervisor knows.
    const known = /; known: (.*)$/.exec(res.body.reason ?? '')?.[1];
    throw new CliError(
      `No agent or replica named "${flags.agent}" in this supervisor${known ? ` (known: ${known})` : ''}. ` +
      'Pass an agent name or a replica such as qaa-0; `agentic-scrum-setup background status` lists them.',
      HEALTH_EXIT_NO_SUCH_AGENT,
      'unknown_agent',
    );
  }
  if (res.status === 404) throw new CliError('This supervisor has no health endpoint (it predates health checks): restart it with the current version.', EXIT.FAILED);
  if (res.status >= 400) throw new CliError(`The supervisor refused the health request: ${res.body.reason ?? res.body.error ?? `HTTP ${res.status}`}`, EXIT.FAILED);
  const body = res.body;
  process.stdout.write(flags.json ? `${JSON.stringify(body, null, 2)}\n` : renderHealth(body, useColor()));
  return HEALTH_EXIT[body.verdict];
}
