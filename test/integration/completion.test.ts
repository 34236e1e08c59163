import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBackgroundCommands } from '../../src/cli/program.js';
import { CLI, cleanup, runCli, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * `background completion bash|zsh|fish`, run by the real shells: the scripts parse,
 * complete every command and option of the command tree (read here from commander,
 * not from the generator), and complete agent names from a running supervisor.
 */

const has = (shell: string) => spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;
// Real shells, never skipped: .ci/run installs zsh and fish (apt-get install zsh fish).
it('has bash, zsh and fish to test with', () => {
  expect(['bash', 'zsh', 'fish'].filter((s) => !has(s)), 'missing shells: apt-get install zsh fish').toEqual([]);
});
const tmp = mkdtempSync(path.join(tmpdir(), 'completion-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A directory whose `agentic-scrum-setup` runs this build, as an installed bin would. */
const bin = path.join(tmp, 'bin');
execFileSync('mkdir', ['-p', bin]);
writeFileSync(path.join(bin, 'agentic-scrum-setup'), `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} "$@"\n`);
chmodSync(path.join(bin, 'agentic-scrum-setup'), 0o755);
const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };

const scripts: Record<string, string> = {};
beforeAll(async () => {
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await runCli(['background', 'completion', shell]);
    expect(r.code, r.stderr).toBe(0);
    scripts[shell] = path.join(tmp, `completion.${shell}`);
    writeFileSync(scripts[shell], r.stdout);
  }
});

/** Completes `line` (the words before the cursor, then the word being typed) in a real bash; returns COMPREPLY. */
function bashComplete(lines: string[][]): string[][] {
  const cases = lines.map((words) => `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMPREPLY=(); _agentic_scrum_setup; echo "\${COMPREPLY[*]}"`);
  const out = execFileSync('bash', ['-c', `source ${scripts.bash}\n${cases.join('\n')}`], { env, encoding: 'utf8' });
  return out.split('\n').slice(0, lines.length).map((l) => l.split(' ').filter(Boolean));
}

/** Every command of the real tree: its words, subcommands and long options. */
const program = new Command('agentic-scrum-setup').version('0.0.0');
registerBackgroundCommands(program);
interface Node { words: string[]; subs: string[]; longs: string[] }
const nodes: Node[] = [];
(function walk(c: Command, words: string[]) {
  nodes.push({ words, subs: c.commands.map((s) => s.name()), longs: c.options.filter((o) => !o.hidden && o.long).map((o) => o.long as string) });
  for (const s of c.commands) walk(s, [...words, s.name()]);
})(program, []);

describe('the scripts parse', () => {
  it('bash -n', () => {
    expect(spawnSync('bash', ['-n', scripts.bash as string]).status).toBe(0);
  });
  it('zsh -n', () => {
    const r = spawnSync('zsh', ['-n', scripts.zsh as string], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
  it('fish -n', () => {
    const r = spawnSync('fish', ['-n', scripts.fish as string], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  });
});

describe('bash completes the whole command tree', () => {
  it('`background sta` completes to start and status', () => {
    const out = execFileSync('bash', ['-c', `source <(${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} background completion bash); COMP_WORDS=(agentic-scrum-setup background sta); COMP_CWORD=2; _agentic_scrum_setup; echo "\${COMPREPLY[@]}"`], { encoding: 'utf8' });
    expect(out.trim()).toBe('start status');
  });

  it('every command with subcommands offers exactly them, and every command offers each of its options', () => {
    const parents = nodes.filter((n) => n.subs.length);
    expect(parents.map((n) => n.words.join(' '))).toEqual(['', 'background', 'background alerting', 'background db']);
    const subs = bashComplete(parents.map((n) => ['agentic-scrum-setup', ...n.words, '']));
    parents.forEach((n, i) => expect(subs[i], n.words.join(' ')).toEqual(n.subs));
    const opts = bashComplete(nodes.map((n) => ['agentic-scrum-setup', ...n.words, '--']));
    nodes.forEach((n, i) => expect(opts[i], `${n.words.join(' ')} --`).toEqual(expect.arrayContaining([...n.longs, '--help'])));
    expect(nodes.find((n) => n.words.join(' ') === 'background completion')).toBeDefined();
  });

  it('completes option values and the shell argument, and skips an option\'s value when finding the command', () => {
    const [shells, level, afterValue] = bashComplete([
      ['agentic-scrum-setup', 'background', 'completion', ''],
      ['agentic-scrum-setup', 'background', 'logs', '--state-dir', '/nowhere', '--js'],
      ['agentic-scrum-setup', 'background', 'tasks', '--limit', '5', '--st'],
    ]);
    expect(shells).toEqual(['bash', 'zsh', 'fish']);
    expect(level).toEqual(['--json']);
    expect(afterValue).toEqual(['--state-dir', '--status']);
  });
});

describe('fish completes the command tree', () => {
  it('each command with subcommands offers them', () => {
    const parents = nodes.filter((n) => n.subs.length);
    const script = parents.map((n) => `complete -C ${JSON.stringify(['agentic-scrum-setup', ...n.words, ''].join(' '))}; echo ---`).join('; ');
    const out = execFileSync('fish', ['-c', `source ${scripts.fish}; ${script}`], { env, encoding: 'utf8' }).split('---\n');
    parents.forEach((n, i) => {
      const offered = (out[i] ?? '').split('\n').filter(Boolean).map((l) => l.split('\t')[0]);
      expect(offered.sort(), n.words.join(' ')).toEqual(expect.arrayContaining([...n.subs].sort()));
    });
  });
});

describe('zsh walks the same tree', () => {
  it('offers background\'s subcommands and restart\'s options (compadd recorded)', () => {
    const out = execFileSync('zsh', ['-f', '-c', `compdef() { :; }; source ${scripts.zsh}; compadd() { [[ $1 == -- ]] && shift; print -r -- "$*"; }; words=(agentic-scrum-setup background ''); CURRENT=3; _agentic_scrum_setup; words=(agentic-scrum-setup background restart --js); CURRENT=4; _agentic_scrum_setup`], { encoding: 'utf8' }).trim().split('\n');
    expect(out[0]?.split(' ')).toEqual(nodes.find((n) => n.words.join(' ') === 'background')?.subs);
    expect(out[1]?.split(' ')).toEqual(expect.arrayContaining(['--json', '--state-dir', '--config']));
  });
});

describe('agent names from a running supervisor', () => {
  let sup: RunningSupervisor | undefined;
  beforeAll(async () => {
    sup = await startSupervisor({ agents: [{ name: 'qaa', command: ['sleep', '600'], replicas: 2 }, { name: 'saa', role: 'security', command: ['sleep', '600'] }] });
    await waitFor('the supervisor to answer', async () => (await sup!.cli(['background', 'status', '--json'])).code === 0, 60_000, 250);
  });
  afterAll(() => cleanup(sup));

  it('bash completes agents and replicas for restart, roles for submit, with the line\'s --state-dir', () => {
    const s = (sup as RunningSupervisor).stateDir;
    const [agents, roles, none, option] = bashComplete([
      ['agentic-scrum-setup', 'background', 'restart', '--state-dir', s, 'q'],
      ['agentic-scrum-setup', 'background', 'submit', '--state-dir', s, ''],
      ['agentic-scrum-setup', 'background', 'restart', '--state-dir', path.join(tmp, 'no-supervisor'), ''],
      ['agentic-scrum-setup', 'background', 'health', '--state-dir', s, '--agent', 's'],
    ]);
    expect(agents).toEqual(['qaa', 'qaa-0', 'qaa-1']);
    expect(roles).toEqual(['qaa', 'security']);
    expect(none).toEqual([]);
    expect(option).toEqual(['saa', 'saa-0']);
  });

  it('fish completes them too', () => {
    const s = (sup as RunningSupervisor).stateDir;
    const out = execFileSync('fish', ['-c', `source ${scripts.fish}; complete -C ${JSON.stringify(`agentic-scrum-setup background health --state-dir ${s} --agent s`)}`], { env, encoding: 'utf8' });
    expect(out.trim().split('\n').map((l) => l.split('\t')[0])).toEqual(['saa', 'saa-0']);
  });
});

describe('an unknown shell', () => {
  it('exits 2 naming the accepted shells, and prints no script', async () => {
    const r = await runCli(['background', 'completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Allowed choices are bash, zsh, fish');
    expect(r.stdout).toBe('');
  });
});
