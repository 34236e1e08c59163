import type { Argument, Command, Option } from 'commander';

/**
 * What a value on the command line is, for completion: agent names (agents and their
 * replicas, from `status --json`), role names, a directory, a file, one of fixed
 * choices (`choice=bash,zsh,fish`), or anything (`none`: nothing is offered).
 */
export type ValueKind = 'agent' | 'role' | 'dir' | 'file' | 'none' | `choice=${string}`;

export interface OptionSpec {
  /** `-f`, `--follow`. */
  flags: string[];
  /** The kind of its value; undefined for a switch that takes none. */
  value: ValueKind | undefined;
  description: string;
}

export interface CommandSpec {
  /** The words that reach it: `[]` for the program, `['background', 'alerting', 'render']`. */
  path: string[];
  description: string;
  subcommands: string[];
  options: OptionSpec[];
  /** One kind per positional argument; a variadic last one repeats. */
  args: ValueKind[];
}

const HELP: OptionSpec = { flags: ['-h', '--help'], value: undefined, description: 'display help for command' };

function optionValue(o: Option): ValueKind | undefined {
  if (!o.required && !o.optional) return undefined;
  if (o.argChoices) return `choice=${o.argChoices.join(',')}`;
  if (o.long === '--agent') return 'agent';
  if (o.long === '--role') return 'role';
  if (/<[^>]*dir>/.test(o.flags)) return 'dir';
  if (/<[^>]*file>/.test(o.flags)) return 'file';
  return 'none';
}

function argValue(a: Argument): ValueKind {
  if (a.argChoices) return `choice=${a.argChoices.join(',')}`;
  const name = a.name();
  return name === 'agent' ? 'agent' : name === 'role' ? 'role' : name === 'command' ? 'file' : 'none';
}

/**
 * Every command of the tree under `root` (root first, then depth first, in the
 * order they were registered), read from commander itself so that a completion
 * script generated from it never drifts from the commands.
 */
export function commandTree(root: Command): CommandSpec[] {
  const out: CommandSpec[] = [];
  const walk = (cmd: Command, path: string[]) => {
    out.push({
      path,
      description: cmd.description(),
      subcommands: cmd.commands.map((c) => c.name()),
      options: [...cmd.options.filter((o) => !o.hidden).map((o) => ({ flags: [o.short, o.long].filter((f): f is string => Boolean(f)), value: optionValue(o), description: o.description })), HELP],
      args: cmd.registeredArguments.map(argValue),
    });
    for (const c of cmd.commands) walk(c, [...path, c.name()]);
  };
  walk(root, []);
  return out;
}
