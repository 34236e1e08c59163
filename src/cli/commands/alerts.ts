import { readFileSync } from 'node:fs';
import type { AlertDecision } from '../../controller/DecisionStore.js';
import { ApiClient } from '../client.js';
import { CliError, EXIT } from '../CliError.js';
import { dim, green, red, table, yellow } from '../format.js';
import { httpRequest, type HttpAnswer } from '../httpRequest.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';

export interface AlertsFlags extends StateDirFlags {
  json?: boolean | undefined;
  limit?: string | undefined;
  /** A standalone controller's URL instead of the supervisor's. */
  url?: string | undefined;
  tokenFile?: string | undefined;
}

const colorResult = (r: string): string => (r === 'acted' ? green(r) : r === 'failed' ? red(r) : r === 'duplicate' ? dim(r) : yellow(r));

/** `background alerts`: the recovery controller's recent decisions, newest first. */
export async function alertsCommand(flags: AlertsFlags): Promise<number> {
  const limit = flags.limit ?? '20';
  if (!/^[0-9]{1,5}$/.test(limit) || Number(limit) < 1) throw new CliError(`Expected --limit to be a whole number from 1, got \`${limit}\``, EXIT.USAGE);
  const decisions = flags.url ? await fromController(flags.url, flags.tokenFile, limit) : (await ApiClient.fromStateDir(await resolveStateDir(flags)).call<{ decisions: AlertDecision[] }>('GET', `/api/v1/alerts/decisions?limit=${limit}`)).decisions;
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(decisions, null, 2)}\n`);
    return EXIT.OK;
  }
  if (!decisions.length) {
    process.stdout.write('No alert decisions yet: the recovery controller has received no Alertmanager notification.\n');
    return EXIT.OK;
  }
  const rows = decisions.map((d) => [
    new Date(d.at).toISOString().replace('T', ' ').slice(0, 19),
    d.alertname || '-',
    d.target ?? '-',
    d.instance ?? '-',
    colorResult(d.result),
    `${d.decision_ms.toFixed(1)}ms`,
    d.reason,
  ]);
  process.stdout.write(`${table(['TIME (UTC)', 'ALERT', 'TARGET', 'INSTANCE', 'RESULT', 'DECIDED IN', 'REASON'], rows)}\n`);
  return EXIT.OK;
}

async function fromController(url: string, tokenFile: string | undefined, limit: string): Promise<AlertDecision[]> {
  if (!tokenFile) throw new CliError('--url needs --token-file: the controller\'s webhook.token', EXIT.USAGE);
  let token: string;
  try {
    token = readFileSync(tokenFile, 'utf8').trim();
  } catch (err) {
    throw new CliError(`Cannot read --token-file ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, EXIT.USAGE);
  }
  let res: HttpAnswer;
  try {
    res = await httpRequest(`${url.replace(/\/+$/, '')}/api/v1/alerts/decisions?limit=${limit}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new CliError(`Cannot reach the recovery controller at ${url}: ${(err as { code?: string }).code ?? (err as Error).message}. Is \`background controller\` running?`, EXIT.NOT_RUNNING);
  }
  let body: { decisions?: AlertDecision[]; reason?: string; error?: string };
  try {
    body = (JSON.parse(res.text) as typeof body | null) ?? {};
  } catch {
    body = {};
  }
  if (res.status < 200 || res.status > 299 || !body.decisions) throw new CliError(`The recovery controller answered ${res.status}: ${body.reason ?? body.error ?? 'no decisions'}`, EXIT.FAILED);
  return body.decisions;
}
