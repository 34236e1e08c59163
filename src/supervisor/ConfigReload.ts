import type { AgentConfig, Config } from '../config/schema.js';

/**
 * Agent keys a reload applies without a new process: `replicas` (replicas are added
 * or removed, the others keep running) and `max_concurrent` (a per_task agent starts
 * runs up to the new bound; runs over a lowered bound finish). A change to any other
 * key of an agent restarts it.
 */
export const LIVE_AGENT_KEYS: ReadonlySet<string> = new Set(['replicas', 'max_concurrent']);

/** A setting outside `background.agents` that differs: a reload refuses it. */
export interface NotReloadable {
  /** Dotted key path, e.g. `background.server.port`. */
  key: string;
  reason: string;
}

export interface ChangedAgent {
  name: string;
  /** Keys that differ, relative to the agent (`command`, `env.LEVEL`, `probe.period`). */
  keys: string[];
  /** Whether the agent's processes restart (false: only live keys changed). */
  restart: boolean;
  before: AgentConfig;
  after: AgentConfig;
}

/** What a reload would do: the new config against the running one. */
export interface ConfigDiff {
  notReloadable: NotReloadable[];
  added: AgentConfig[];
  removed: AgentConfig[];
  changed: ChangedAgent[];
  /** Agent names whose effective config is the same (defaults filled in): not touched. */
  unchanged: string[];
}

const REASONS: [prefix: string, reason: string][] = [
  ['background.state_dir', 'the state directory holds this supervisor\'s lock, database and logs'],
  ['background.server', 'the server\'s socket, body limit and /metrics credentials are set up when it starts listening'],
];

/** Why `key` cannot change while the supervisor runs, and what to do. */
export function notReloadableReason(key: string): string {
  const why = REASONS.find(([p]) => key === p || key.startsWith(`${p}.`))?.[1]
    ?? 'a reload applies background.agents only; every other setting is read once, when the supervisor starts';
  return `${key} cannot change while the supervisor runs (${why}): restart the supervisor to apply it (background stop, then background start --config <file>)`;
}

type Json = unknown;
const isObject = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The dotted paths where `a` and `b` differ, below `at`. Mappings are compared key by
 * key; a list or a scalar that differs is one path (a changed `command` is `command`,
 * not `command[2]`).
 */
export function diffPaths(a: Json, b: Json, at = ''): string[] {
  if (isObject(a) && isObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => diffPaths(a[k], b[k], at ? `${at}.${k}` : k));
  }
  return sameValue(a, b) ? [] : [at || '(root)'];
}

function sameValue(a: Json, b: Json): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isObject(a) && isObject(b)) return diffPaths(a, b).length === 0;
  return Object.is(a, b);
}

/**
 * How often, in seconds, the agent_response check (which runs the probes) runs for a
 * supervisor started with `bg`: its interval, or sooner for the shortest probe `period`
 * (createChecks). Undefined when it does not run. Fixed at start.
 */
export function probeCheckEvery(bg: Readonly<Config>['background']): number | undefined {
  const m = bg.monitoring;
  if (!m.enabled || !m.health_checks.agent_response.enabled) return undefined;
  return Math.min(m.health_checks.agent_response.interval ?? m.check_interval, ...bg.agents.flatMap((a) => (a.probe ? [a.probe.period] : [])));
}

/** A probe of an added or changed agent that would run less often than its `period` says, since checks keep the interval they started with. */
function probesTooFast(next: Readonly<Config>, changedOrAdded: ReadonlySet<string>, every: number | undefined): NotReloadable[] {
  if (every === undefined) return [];
  return next.background.agents.flatMap((a, i) => {
    if (!changedOrAdded.has(a.name) || !a.probe || a.probe.period >= every) return [];
    const key = `background.agents[${i}].probe.period`;
    return [{ key, reason: `${key} cannot be ${a.probe.period} s while the supervisor runs (probes run with the agent_response check, every ${every} s since the supervisor started: the shortest probe period or check interval then): restart the supervisor to apply it (background stop, then background start --config <file>), or set a period of at least ${every} s` }];
  });
}

/**
 * Compares a new config with the running one. Agents are matched by name; an agent
 * whose effective config (after defaults) is the same is unchanged, however the file
 * spells it. Every differing setting outside `background.agents` is listed in
 * `notReloadable`, with why, and so is the probe `period` of an added or changed agent
 * shorter than `probeEvery` (seconds; see {@link probeCheckEvery}).
 */
export function diffConfig(running: Readonly<Config>, next: Readonly<Config>, opts: { probeEvery?: number | undefined } = {}): ConfigDiff {
  const { agents: before, ...restBefore } = running.background;
  const { agents: after, ...restAfter } = next.background;
  const notReloadable = diffPaths(restBefore, restAfter, 'background').map((key) => ({ key, reason: notReloadableReason(key) }));
  const old = new Map(before.map((a) => [a.name, a]));
  const diff: ConfigDiff = { notReloadable, added: [], removed: before.filter((a) => !after.some((b) => b.name === a.name)), changed: [], unchanged: [] };
  for (const a of after) {
    const was = old.get(a.name);
    if (!was) {
      diff.added.push(a);
      continue;
    }
    const keys = diffPaths(was, a);
    if (!keys.length) diff.unchanged.push(a.name);
    else diff.changed.push({ name: a.name, keys, restart: keys.some((k) => !LIVE_AGENT_KEYS.has(k)), before: was, after: a });
  }
  diff.notReloadable.push(...probesTooFast(next, new Set([...diff.added.map((a) => a.name), ...diff.changed.map((c) => c.name)]), opts.probeEvery));
  return diff;
}
