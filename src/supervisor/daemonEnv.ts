/**
 * Environment the supervisor daemon is started with, beside its V8 options
 * (src/cli/daemonNodeArgs.ts), by `background start`, `npm start`, the systemd unit and the
 * container.
 *
 * `MALLOC_ARENA_MAX=1`: glibc's malloc serves every thread from one arena. By default each
 * thread that allocates gets an arena of its own (up to 8 per core), and the daemon has a
 * dozen threads (libuv's pool, V8's GC and compiler workers). Each arena keeps what it
 * freed, so after a log flood the daemon held memory in arenas nothing used again. With one
 * arena: 3–6 MB less at rest and a flood's growth about 5 MB smaller, for no measurable CPU,
 * idle or rendering /metrics at 1,000 agents (docs/benchmarks.md, "One malloc arena").
 * Only glibc reads it (musl and macOS ignore it).
 *
 * The agents do not inherit it: it is the launcher's choice for the daemon, and an agent
 * (often a multi-threaded Python or Node program) keeps malloc's defaults.
 */
export const DAEMON_ENV: Readonly<Record<string, string>> = { MALLOC_ARENA_MAX: '1' };

/**
 * Names, comma-separated, of the {@link DAEMON_ENV} variables the launcher added (the
 * operator had not set them). The supervisor passes neither them nor this variable to its
 * agents. A variable the operator set is theirs, and the agents get it as before.
 */
export const DAEMON_ENV_ADDED = 'AGENTIC_DAEMON_ENV';

/** What to add to `env` to start the daemon: {@link DAEMON_ENV} less what `env` already sets (the operator's value wins), and the list of what was added. */
export function daemonEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const added = Object.keys(DAEMON_ENV).filter((k) => env[k] === undefined);
  if (added.length === 0) return {};
  const out: Record<string, string> = { [DAEMON_ENV_ADDED]: added.join(',') };
  for (const k of added) out[k] = DAEMON_ENV[k] as string;
  return out;
}

/** `env` without what the launcher added for the daemon alone: the base of every agent's environment. */
export function withoutDaemonEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const added = new Set((env[DAEMON_ENV_ADDED] ?? '').split(',').filter((k) => Object.hasOwn(DAEMON_ENV, k)));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && k !== DAEMON_ENV_ADDED && !added.has(k)) out[k] = v;
  return out;
}
