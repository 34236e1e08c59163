import path from 'node:path';
import { StateDir } from '../supervisor/StateDir.js';

export interface StateDirFlags {
  stateDir?: string | undefined;
  config?: string | undefined;
}

/**
 * The state directory: --state-dir, then AGENTIC_STATE_DIR, then the config's state_dir,
 * then the default. The config loader (yaml, zod) is imported only when the config is
 * what decides, so a command given --state-dir does not pay for it.
 * @throws ConfigError when the state directory comes from a config file that is not valid.
 */
export async function resolveStateDir(flags: StateDirFlags, env: NodeJS.ProcessEnv = process.env): Promise<StateDir> {
  if (flags.stateDir) return new StateDir(path.resolve(flags.stateDir));
  if (env.AGENTIC_STATE_DIR) return new StateDir(path.resolve(env.AGENTIC_STATE_DIR));
  if (flags.config) {
    const { loadConfig } = await import('../config/loadConfig.js');
    return new StateDir(loadConfig(flags.config).background.state_dir);
  }
  return new StateDir(path.resolve('.agentic/background'));
}
