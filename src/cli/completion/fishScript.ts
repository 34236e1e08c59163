import type { CommandSpec, ValueKind } from './commandTree.js';

/** A fish single-quoted string. */
const q = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** The `complete` flags that offer a value of this kind. */
function offer(kind: ValueKind, fn: string): string {
  if (kind === 'agent') return `-x -a ${q(`(${fn} 'agent|replica')`)}`;
  if (kind === 'role') return `-x -a ${q(`(${fn} role)`)}`;
  if (kind === 'dir') return `-x -a ${q('(__fish_complete_directories)')}`;
  if (kind === 'file') return '-r -F';
  if (kind.startsWith('choice=')) return `-x -a ${q(kind.slice('choice='.length).replaceAll(',', ' '))}`;
  return '-x';
}

/**
 * The fish script: `<bin> background completion fish | source`. One `complete` line
 * per subcommand, option and positional argument of the command tree; agent and role
 * names from `background status --json`, run only when such a name is completed.
 */
export function fishScript(bin: string, tree: readonly CommandSpec[]): string {
  const fn = `__${bin.replace(/[^A-Za-z0-9]/g, '_')}_names`;
  const c = `complete -c ${bin}`;
  const out = [
    `# fish completion for ${bin}: commands, options, and agent and role names.`,
    `# Generated from the command tree by \`${bin} background completion fish\`; load it with`,
    `#   ${bin} background completion fish | source`,
    '',
    `function ${fn} --description 'agent or role names from background status --json'`,
    '    set -l tokens (commandline -opc)',
    '    command -q -- $tokens[1]; or return',
    '    set -l where',
    '    for i in (seq 2 (count $tokens))',
    '        set -l prev $tokens[(math $i - 1)]',
    '        if contains -- $prev --state-dir --config',
    '            set -a where $prev $tokens[$i]',
    '        end',
    '    end',
    `    $tokens[1] background status --json $where 2>/dev/null | string replace -rf '^ *"(?:'$argv[1]')": "([^"]*)".*' '$1' | sort -u`,
    'end',
    '',
    `${c} -f`,
  ];
  for (const cmd of tree) {
    const seen = cmd.path.map((w) => `__fish_seen_subcommand_from ${w}`);
    const here = seen.length ? seen.join('; and ') : '__fish_use_subcommand';
    if (cmd.subcommands.length) {
      const notYet = [...seen, `not __fish_seen_subcommand_from ${cmd.subcommands.join(' ')}`].join('; and ');
      for (const sub of tree.filter((t) => t.path.length === cmd.path.length + 1 && cmd.path.every((w, i) => t.path[i] === w))) {
        out.push(`${c} -n ${q(notYet)} -a ${sub.path.at(-1)} -d ${q(sub.description)}`);
      }
    }
    for (const o of cmd.options) {
      const flags = o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(' ');
      out.push(`${c} -n ${q(here)} ${flags}${o.value ? ` ${offer(o.value, fn)}` : ''} -d ${q(o.description)}`);
    }
    const first = cmd.args[0];
    if (first && first !== 'none' && !cmd.subcommands.length) out.push(`${c} -n ${q(here)} ${offer(first, fn).replace(/^-x /, '')}`);
  }
  return `${out.join('\n')}\n`;
}
