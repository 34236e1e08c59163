import type { ConfigProblem } from './ConfigError.js';
import { describeValue, parseDurationSeconds } from './fields.js';
import { configSchema } from './schema.js';

/**
 * Rules that span several keys. They read the raw (unvalidated) input, so they run
 * even when single keys are wrong and every problem is listed in one pass. A value
 * that is itself invalid is skipped here: the schema already reports it.
 */

const DEFAULTS = configSchema.parse({ background: {} }).background;

type Raw = Record<string, unknown>;
const obj = (v: unknown): Raw => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Raw) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** A duration from raw input, its default when absent, or NaN when the schema rejects it. */
const dur = (v: unknown, fallback: number, allowZero = false): number => {
  const s = v === undefined ? fallback : parseDurationSeconds(v);
  return s > 0 || (allowZero && s === 0) ? s : Number.NaN;
};

function checkAgents(agents: unknown[], problems: ConfigProblem[]): void {
  const seen = new Map<string, number>();
  agents.forEach((rawAgent, i) => {
    const a = obj(rawAgent);
    const at = `background.agents[${i}]`;
    if (typeof a.name === 'string') {
      const first = seen.get(a.name);
      if (first !== undefined) problems.push({ path: `${at}.name`, message: `expected a unique agent name, got "${a.name}" again (first at background.agents[${first}])` });
      else seen.set(a.name, i);
    }
    if (a.mode === 'per_task' && typeof a.replicas === 'number' && a.replicas > 1) {
      problems.push({ path: `${at}.replicas`, message: `expected no replicas for a per_task agent (it starts one process per task; use max_concurrent to run several at once), got ${describeValue(a.replicas)}` });
    }
    if (Array.isArray(a.resume_args) && a.resume_args.length > 0 && !a.resume_args.some((x) => typeof x === 'string' && x.includes('{session_id}'))) {
      problems.push({ path: `${at}.resume_args`, message: `expected the resume arguments to hold {session_id} (for example ["--resume", "{session_id}"]), or [] to never resume, got ${JSON.stringify(a.resume_args)}` });
    }
    if (a.probe && typeof a.probe === 'object') {
      const p = obj(a.probe);
      const needs = p.type === 'http' ? 'url' : p.type === 'tcp' ? 'address' : p.type === 'exec' ? 'command' : undefined;
      const what = { url: 'an http(s) URL', address: 'an address "host:port"', command: 'a command (an argv list)' };
      if (needs && p[needs] === undefined) problems.push({ path: `${at}.probe.${needs}`, message: `expected ${what[needs]} for a ${String(p.type)} probe, got ${describeValue(undefined)}` });
    }
    list(a.connectivity).forEach((t, j) => {
      if (!t || typeof t !== 'object' || Array.isArray(t)) return;
      const target = t as Raw;
      const has = (k: string) => target[k] !== undefined;
      if (!has('url') && !has('address')) problems.push({ path: `${at}.connectivity[${j}]`, message: 'expected a "url" or an "address" to check, got neither' });
      else if (has('url') && has('address')) problems.push({ path: `${at}.connectivity[${j}]`, message: 'expected either a "url" or an "address", got both' });
    });
  });
}

function checkRecovery(r: Raw, problems: ConfigProblem[]): void {
  const d = DEFAULTS.monitoring.recovery;
  const at = 'background.monitoring.recovery';
  const base = dur(r.base_delay, d.base_delay, true);
  const max = dur(r.max_delay, d.max_delay);
  if (max < base) problems.push({ path: `${at}.max_delay`, message: `expected at least base_delay (${base}s), got ${max}s` });
  const cool = dur(r.breaker_cooldown, d.breaker_cooldown);
  const maxCool = dur(r.breaker_max_cooldown, d.breaker_max_cooldown);
  if (maxCool < cool) problems.push({ path: `${at}.breaker_max_cooldown`, message: `expected at least breaker_cooldown (${cool}s), got ${maxCool}s` });
}

function checkRetryBackoff(r: Raw, problems: ConfigProblem[]): void {
  const d = DEFAULTS.queue.retry_backoff;
  const initial = dur(r.initial, d.initial, true);
  const max = dur(r.max, d.max);
  if (max < initial) problems.push({ path: 'background.queue.retry_backoff.max', message: `expected at least initial (${initial}s), got ${max}s` });
}

function checkQueueBackend(q: Raw, problems: ConfigProblem[]): void {
  const at = 'background.queue.postgres';
  const pgc = obj(q.postgres);
  if (pgc.url !== undefined) problems.push({ path: `${at}.url`, message: 'expected url_env or url_file: a connection URL holds the password and is never written in the config, got an inline url' });
  if (q.backend !== 'postgres') return;
  const env = pgc.url_env !== undefined;
  const file = pgc.url_file !== undefined;
  if (!env && !file) problems.push({ path: at, message: 'expected url_env or url_file when background.queue.backend is postgres, got neither' });
  else if (env && file) problems.push({ path: at, message: 'expected one of url_env or url_file, got both' });
}

function checkAlerts(a: Raw, problems: ConfigProblem[]): void {
  const at = 'background.monitoring.alerts';
  const email = obj(a.email);
  if (email.enabled === true && (email.recipients === undefined || (Array.isArray(email.recipients) && email.recipients.length === 0))) {
    problems.push({ path: `${at}.email.recipients`, message: `expected at least one email address when email alerts are enabled, got ${describeValue(email.recipients)}` });
  }
  const webhook = obj(a.webhook);
  if (webhook.enabled === true && webhook.url === undefined) {
    problems.push({ path: `${at}.webhook.url`, message: `expected an http(s) URL when webhook alerts are enabled, got ${describeValue(undefined)}` });
  }
}

/** Every cross-key problem in `raw` (the whole config, after overrides). */
export function crossChecks(raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const bg = obj(obj(raw).background);
  const monitoring = obj(bg.monitoring);
  checkAgents(list(bg.agents), problems);
  checkRecovery(obj(monitoring.recovery), problems);
  checkRetryBackoff(obj(obj(bg.queue).retry_backoff), problems);
  checkQueueBackend(obj(bg.queue), problems);
  checkAlerts(obj(monitoring.alerts), problems);
  return problems;
}
