/** A command: the arguments commander passes (operands, then the options, then the Command), and the exit code. */
type CommandFn = (...args: never[]) => Promise<number>;

/**
 * A commander action that imports its command's module only when the command runs,
 * so building the command tree (and `--help`, `--version`) loads none of them, and
 * each command loads only what it uses. The command's result becomes process.exitCode
 * (never process.exit(): the output must drain).
 *
 *   .action(lazyAction(() => import('./commands/status.js'), 'statusCommand'))
 */
export function lazyAction<K extends string, M extends Record<K, CommandFn>>(load: () => Promise<M>, name: K): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = (await load())[name] as unknown as (...a: unknown[]) => Promise<number>; // commander passes what the command declares
    process.exitCode = await command(...args);
  };
}
