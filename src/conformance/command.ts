/**
 * `agentic-scrum-setup background conformance [options] -- <agent command…>`:
 * runs the agent under the kit's scripted supervisor (runConformance.ts), prints
 * one row per check, and exits 0 when every check passed or was skipped, 1 when
 * one failed, 2 for a usage error. Loaded only when the command runs.
 */
import { writeFileSync } from 'node:fs';
import { CliError, EXIT } from '../cli/CliError.js';
import { green, red, table, yellow } from '../cli/format.js';
import type { TranscriptEntry } from './AgentUnderTest.js';
import { runConformance, type ConformanceReport } from './runConformance.js';

export interface ConformanceFlags {
  json?: boolean;
  transcript?: string;
  heartbeatMs?: string;
  taskTimeout?: string;
  shutdownDeadlineMs?: string;
}

function positiveInt(flag: string, value: string | undefined, fallback: number, unit: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new CliError(`${flag}: expected a whole number of ${unit} above 0, found ${JSON.stringify(value)}`, EXIT.USAGE);
  return n;
}

/** The transcript as text: `+1.234s  agent → {…}` per line, one block per session. */
export function formatTranscript(sessions: TranscriptEntry[][]): string {
  return sessions.map((lines, i) => [
    `# session ${i + 1}${i === 1 ? ' (restarted, welcomed with the last checkpoint)' : ''}`,
    ...lines.map((e) => `+${(e.at / 1000).toFixed(3)}s  ${e.dir === 'agent' ? 'agent      →' : 'supervisor →'} ${e.line}${e.error ? `   [refused: ${e.error.reason}]` : ''}`),
  ].join('\n')).join('\n\n') + '\n';
}

export function formatReport(r: ConformanceReport): string {
  const mark = (res: string) => (res === 'pass' ? green('pass') : res === 'fail' ? red('FAIL') : yellow('skip'));
  const failed = r.rows.filter((x) => x.result === 'fail').length;
  const lines = [table(['CHECK', 'RESULT', 'DETAIL'], r.rows.map((x) => [x.check, mark(x.result), x.detail]))];
  lines.push('', r.ok ? `conformant: ${r.rows.filter((x) => x.result === 'pass').length} passed, ${r.rows.filter((x) => x.result === 'skip').length} skipped` : `NOT conformant: ${failed} check(s) failed (docs/protocol.md)`);
  if (!r.ok && r.output.length) lines.push('', 'the agent\'s last output lines:', ...r.output.map((l) => `  ${l}`));
  return `${lines.join('\n')}\n`;
}

export async function conformanceCommand(argv: string[], flags: ConformanceFlags): Promise<number> {
  if (!argv.length) throw new CliError('conformance: expected the agent command after --, e.g. background conformance -- python3 my_agent.py', EXIT.USAGE);
  const report = await runConformance({
    argv,
    heartbeatMs: positiveInt('--heartbeat-ms', flags.heartbeatMs, 500, 'milliseconds'),
    taskTimeoutMs: positiveInt('--task-timeout', flags.taskTimeout, 30, 'seconds') * 1000,
    shutdownDeadlineMs: positiveInt('--shutdown-deadline-ms', flags.shutdownDeadlineMs, 3000, 'milliseconds'),
  });
  if (flags.transcript) writeFileSync(flags.transcript, formatTranscript(report.sessions));
  process.stdout.write(flags.json ? `${JSON.stringify({ ok: report.ok, rows: report.rows }, null, 2)}\n` : formatReport(report));
  return report.ok ? EXIT.OK : EXIT.FAILED;
}
