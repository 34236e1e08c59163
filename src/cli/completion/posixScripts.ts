import type { CommandSpec, OptionSpec } from './commandTree.js';

/**
 * The bash and zsh completion scripts. Both carry the command tree as one `case`
 * (a command's subcommands, options, options that take a value and the kind of each
 * positional argument) and walk the words typed so far through it. Agent and role
 * names come from `<the command typed> background status --json`, run only when such
 * a name is completed, with the line's --state-dir and --config.
 */

const words = (xs: readonly string[]) => xs.join(' ');
const valuesOf = (opts: readonly OptionSpec[]) => words(opts.flatMap((o) => (o.value ? o.flags.map((f) => `${f}:${o.value}`) : [])));

/** `_agentic_scrum_setup` for `agentic-scrum-setup`. */
export const functionName = (bin: string): string => `_${bin.replace(/[^A-Za-z0-9]/g, '_')}`;

function specFunction(f: string, tree: readonly CommandSpec[]): string {
  const rows = tree.map((c) => `    '${words(c.path)}') _ass_subs='${words(c.subcommands)}'; _ass_opts='${words(c.options.flatMap((o) => o.flags))}'; _ass_vals='${valuesOf(c.options)}'; _ass_args='${words(c.args)}';;`);
  return [`${f}_spec() {`, '  case "$1" in', ...rows, "    *) _ass_subs=''; _ass_opts=''; _ass_vals=''; _ass_args='';;", '  esac', '}'].join('\n');
}

function header(bin: string, shell: string, load: string): string {
  return [
    `# ${shell} completion for ${bin}: commands, options, and agent and role names.`,
    `# Generated from the command tree by \`${bin} background completion ${shell}\`; load it with`,
    `#   ${load}`,
    '# Agent and role names come from `background status --json` (with the --state-dir or',
    '# --config on the line), run only when such a name is completed.',
  ].join('\n');
}

const NAMES_SED = `sed -nE "s/^ *\\"($keys)\\": \\"([^\\"]*)\\".*/\\\\2/p" | sort -u`;

/** The bash script: `source <(agentic-scrum-setup background completion bash)`. */
export function bashScript(bin: string, tree: readonly CommandSpec[]): string {
  const f = functionName(bin);
  return `${header(bin, 'bash', `source <(${bin} background completion bash)`)}

${specFunction(f, tree)}

${f}_kind() {
  local p
  for p in $_ass_vals; do
    if [[ \${p%%:*} == "$1" ]]; then printf '%s\\n' "\${p#*:}"; return 0; fi
  done
  return 1
}

${f}_names() {
  local keys=$1; shift
  "\${COMP_WORDS[0]}" background status --json "$@" 2>/dev/null | ${NAMES_SED}
}

${f}_values() {
  local kind=$1 cur=$2; shift 2
  case $kind in
    agent) COMPREPLY=($(compgen -W "$(${f}_names 'agent|replica' "$@")" -- "$cur"));;
    role) COMPREPLY=($(compgen -W "$(${f}_names role "$@")" -- "$cur"));;
    dir) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$cur"));;
    file) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$cur"));;
    choice=*) local c=\${kind#choice=}; COMPREPLY=($(compgen -W "\${c//,/ }" -- "$cur"));;
    *) COMPREPLY=();;
  esac
}

${f}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} cmd='' word kind i n=0
  local -a where=() args
  local _ass_subs _ass_opts _ass_vals _ass_args
  ${f}_spec ''
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ $word == -* ]]; then
      kind=$(${f}_kind "$word") || continue
      if ((i + 1 == COMP_CWORD)); then ${f}_values "$kind" "$cur" "\${where[@]}"; return 0; fi
      if [[ $word == --state-dir || $word == --config ]]; then where+=("$word" "\${COMP_WORDS[i + 1]}"); fi
      i=$((i + 1))
    elif [[ " $_ass_subs " == *" $word "* ]]; then
      cmd="\${cmd:+$cmd }$word"; ${f}_spec "$cmd"; n=0
    else
      n=$((n + 1))
    fi
  done
  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W "$_ass_opts" -- "$cur")); return 0; fi
  if [[ -n $_ass_subs ]]; then COMPREPLY=($(compgen -W "$_ass_subs" -- "$cur")); return 0; fi
  args=($_ass_args)
  ${f}_values "\${args[n]:-none}" "$cur" "\${where[@]}"
}

complete -F ${f} ${bin}
`;
}

/** The zsh script: `source <(agentic-scrum-setup background completion zsh)` after compinit, or saved as `_<bin>` on $fpath. */
export function zshScript(bin: string, tree: readonly CommandSpec[]): string {
  const f = functionName(bin);
  return `#compdef ${bin}
${header(bin, 'zsh', `source <(${bin} background completion zsh)   # after compinit`)}

${specFunction(f, tree)}

${f}_kind() {
  local p
  for p in \${=_ass_vals}; do
    if [[ \${p%%:*} == "$1" ]]; then print -r -- "\${p#*:}"; return 0; fi
  done
  return 1
}

${f}_names() {
  local keys=$1; shift
  "\${words[1]}" background status --json "$@" 2>/dev/null | ${NAMES_SED}
}

${f}_values() {
  local kind=$1; shift
  case $kind in
    agent) compadd -- \${(f)"$(${f}_names 'agent|replica' "$@")"};;
    role) compadd -- \${(f)"$(${f}_names role "$@")"};;
    dir) _files -/;;
    file) _files;;
    choice=*) compadd -- \${(s:,:)\${kind#choice=}};;
    *) return 1;;
  esac
}

${f}() {
  local cur=\${words[CURRENT]} cmd='' word kind i n=1
  local -a where args
  local _ass_subs _ass_opts _ass_vals _ass_args
  ${f}_spec ''
  for (( i = 2; i < CURRENT; i++ )); do
    word=\${words[i]}
    if [[ $word == -* ]]; then
      kind=$(${f}_kind "$word") || continue
      if (( i + 1 == CURRENT )); then ${f}_values "$kind" "\${where[@]}"; return; fi
      if [[ $word == --state-dir || $word == --config ]]; then where+=("$word" "\${words[i + 1]}"); fi
      i=$(( i + 1 ))
    elif [[ " $_ass_subs " == *" $word "* ]]; then
      cmd="\${cmd:+$cmd }$word"; ${f}_spec "$cmd"; n=1
    else
      n=$(( n + 1 ))
    fi
  done
  if [[ $cur == -* ]]; then compadd -- \${=_ass_opts}; return; fi
  if [[ -n $_ass_subs ]]; then compadd -- \${=_ass_subs}; return; fi
  args=(\${=_ass_args})
  ${f}_values "\${args[n]:-none}" "\${where[@]}"
}

if [[ \${zsh_eval_context[-1]} == loadautofunc ]]; then
  ${f} "$@"
else
  compdef ${f} ${bin}
fi
`;
}
