import path from 'node:path';
import { loadConfig } from '../config/loadConfig.js';
import { StateDir } from '../supervisor/StateDir.js';

export interface StateDirFlags {
  stateDir?: string | undefined;
  config?: string | undefined;
}

/** The state directory: --state-dir, then AGENTIC_STATE_DIR, then the config's state_dir, then the default. */
export function resolveStateDir(flags: StateDirFlags, env: NodeJS.ProcessEnv = process.env): StateDir {
  if (flags.stateDir) return new StateDir(path.resolve(flags.stateDir));
  if (env.AGENTIC_STATE_DIR) return new StateDir(path.resolve(env.AGENTIC_STATE_DIR));
  if (flags.config) return new StateDir(loadConfig(flags.config).background.state_dir);
  return new StateDir(path.resolve('.agentic/background'));
}
