import { ConfigError } from './ConfigError.js';
import type { Config } from './schema.js';

/**
 * A supervisor with nothing to supervise is a mistake (an empty file, the wrong
 * file, or `background:` with its agents left out), not a state to run in: `start`
 * refuses it. Other commands read such a file (it still names a state_dir).
 * @throws ConfigError naming `background.agents` and what to add.
 */
export function requireAgents(config: Readonly<Config>, file?: string): void {
  if (config.background.agents.length > 0) return;
  throw new ConfigError([{
    path: 'background.agents',
    message: 'expected at least one agent to supervise, got none (no agents configured); add a list under background:, for example "agents: [{name: qaa, command: [node, qaa.js]}]" (see docs/configuration.md, "background.agents[]")',
  }], file);
}
