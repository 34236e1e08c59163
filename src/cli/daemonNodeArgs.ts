/**
 * V8 options the supervisor daemon runs with (docs/operations.md, "The daemon's V8
 * options and malloc arena"; measured in docs/benchmarks.md):
 *
 * - `--max-semi-space-size=2` caps V8's young generation at 2 MB semi-spaces (the
 *   default grows to 16 MB): under a log flood the young generation otherwise grows
 *   to its maximum and stays there, and /metrics at 1,000 agents renders no slower
 *   with it (a 1 MB cap made it 33 % slower). "Log flood".
 * - `--bytecode-old-age=1 --flush-baseline-code` let V8 drop the compiled code of
 *   functions that did not run between two full GCs (start-up: config parsing,
 *   fastify's and zod's set-up, migrations), which it otherwise keeps until five
 *   have passed, and an idle daemon runs few. A function dropped is compiled again
 *   if it is called. "Dropping start-up code".
 */
export const DAEMON_V8_OPTIONS: readonly string[] = ['--max-semi-space-size=2', '--bytecode-old-age=1', '--flush-baseline-code'];

/** An option's name in one spelling: `--max_semi_space_size=16` and `--no-flush-baseline-code` name the same options as ours. */
const optionName = (arg: string): string => (arg.split('=')[0] ?? '').replace(/_/g, '-').replace(/^--no-/, '--');

/**
 * The node options to start the daemon with: {@link DAEMON_V8_OPTIONS}, less any
 * the operator already gives (in NODE_OPTIONS or to this node, either way round),
 * which win.
 */
export function daemonNodeArgs(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): string[] {
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map(optionName));
  return DAEMON_V8_OPTIONS.filter((o) => !given.has(optionName(o)));
}
