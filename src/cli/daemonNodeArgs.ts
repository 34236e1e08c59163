/**
 * V8 options the supervisor daemon runs with. `--max-semi-space-size=2` caps V8's
 * young generation at 2 MB semi-spaces (the default grows to 16 MB): under a log
 * flood the young generation otherwise grows to its maximum and stays there, and
 * /metrics at 1,000 agents renders no slower with it (a 1 MB cap made it 33 % slower).
 * Measured in docs/benchmarks.md, "Log flood".
 */
export const DAEMON_V8_OPTIONS: readonly string[] = ['--max-semi-space-size=2'];

/**
 * The node options to start the daemon with: {@link DAEMON_V8_OPTIONS}, less any
 * the operator already gives (in NODE_OPTIONS or to this node), which win.
 */
export function daemonNodeArgs(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): string[] {
  const given = [...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)].map((a) => a.split('=')[0]?.replace(/_/g, '-'));
  return DAEMON_V8_OPTIONS.filter((o) => !given.includes(o.split('=')[0]));
}
