import type { Command } from 'commander';
import { commandTree } from '../completion/commandTree.js';
import { fishScript } from '../completion/fishScript.js';
import { bashScript, zshScript } from '../completion/posixScripts.js';
import { EXIT } from '../CliError.js';

/** The shells `background completion` writes a script for (commander checks the argument against them). */
export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/**
 * `background completion bash|zsh|fish`: prints a completion script generated from
 * the command tree this CLI runs with (walked from the root program), so it lists
 * exactly the commands and options there are.
 */
export async function completionCommand(shell: Shell, _flags: unknown, cmd: Command): Promise<number> {
  let root = cmd;
  while (root.parent) root = root.parent;
  const bin = root.name();
  const tree = commandTree(root);
  const script = shell === 'bash' ? bashScript(bin, tree) : shell === 'zsh' ? zshScript(bin, tree) : fishScript(bin, tree);
  process.stdout.write(script);
  return EXIT.OK;
}
