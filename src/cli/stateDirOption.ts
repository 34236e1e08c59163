import { existsSync } from 'node:fs';
import path from 'node:path';
import { readJson, StateDir, type Endpoint } from '../supervisor/StateDir.js';
import { readLastStart } from './lastStart.js';

/** Whether a process with this pid runs (signal 0 only checks; EPERM means it runs as someone else). */
function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface StateDirFlags {
  stateDir?: string | undefined;
  config?: string | undefined;
  /** With --json the note about a found supervisor is not printed (stderr is for the JSON error). */
  json?: boolean | undefined;
}

/**
 * The state directory: --state-dir, then AGENTIC_STATE_DIR, then the config's state_dir,
 * then the default, `.agentic/background` here. When no supervisor runs there but one
 * runs in the state directory of the last `start` (lastStart.ts), that one, with a note
 * on stderr saying which: so a plain `status` finds the supervisor `start --config x.yaml`
 * started, from any directory. The config loader (yaml, zod) is imported only when the
 * config is what decides, so a command given --state-dir does not pay for it.
 * @throws ConfigError when the state directory comes from a config file that is not valid.
 */
export async function resolveStateDir(flags: StateDirFlags, env: NodeJS.ProcessEnv = process.env): Promise<StateDir> {
  if (flags.stateDir) return new StateDir(path.resolve(flags.stateDir));
  if (env.AGENTIC_STATE_DIR) return new StateDir(path.resolve(env.AGENTIC_STATE_DIR));
  if (flags.config) {
    const { loadConfig } = await import('../config/loadConfig.js');
    return new StateDir(loadConfig(flags.config).background.state_dir);
  }
  const here = new StateDir(path.resolve('.agentic/background'));
  if (existsSync(here.endpointFile)) return here;
  const last = readLastStart(env);
  if (!last || path.resolve(last.state_dir) === here.root) return here;
  const there = new StateDir(last.state_dir);
  if (!alive(readJson<Endpoint>(there.endpointFile)?.pid)) return here;
  if (!flags.json) process.stderr.write(`(No supervisor in ${here.root}: using the one last started, with --config ${last.config}, in ${there.root}. Pass --state-dir or --config to choose.)\n`);
  return there;
}
