import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/loadConfig.js';
import { expandArgv } from '../../../src/supervisor/argvTemplate.js';
import { resumeArgsOf, runCommand } from '../../../src/supervisor/runCommand.js';
import { argMax, checkSpawnable, MAX_ARG_STRLEN } from '../../../src/supervisor/spawnLimits.js';

const agentOf = (a: Record<string, unknown>) => parseConfig({ background: { agents: [{ name: 'claude', mode: 'per_task', ...a }] } }).background.agents[0]!;
const task = { id: 'STORY_1', title: 'A story', prompt: 'Write "x"; $(rm -rf /)' };

describe('per_task command templates', () => {
  it('expands {prompt}, {prompt_file}, {task_id}, {title} and {session_id} inside one argument each, leaving an unset one as written', () => {
    expect(expandArgv(['x', '--p={prompt}', '{prompt_file}', '{task_id}:{title}', '{session_id}'], { prompt: 'p q', task_id: 'T', title: 't', prompt_file: '/s/T.prompt' })).toEqual(['x', '--p=p q', '/s/T.prompt', 'T:t', '{session_id}']);
  });

  it('writes the prompt file only when a template uses {prompt_file}, and sends the prompt on stdin with stdin: prompt', () => {
    expect(runCommand(agentOf({ command: ['c', '{prompt}'] }), task, { promptFilePath: '/s/p' })).toEqual({ argv: ['c', task.prompt], stdin: undefined, promptFile: undefined, resumedSession: undefined });
    expect(runCommand(agentOf({ command: ['c', '--file', '{prompt_file}'] }), task, { promptFilePath: '/s/p' })).toMatchObject({ argv: ['c', '--file', '/s/p'], promptFile: '/s/p' });
    expect(runCommand(agentOf({ command: ['claude', '-p'], stdin: 'prompt' }), task, { promptFilePath: '/s/p' })).toMatchObject({ argv: ['claude', '-p'], stdin: task.prompt, promptFile: undefined });
    expect(runCommand(agentOf({ command: ['c'], stdin: 'prompt' }), { ...task, prompt: null }, { promptFilePath: '/s/p' }).stdin).toBe('A story');
  });

  it('appends resume_args with the stored session id: --resume {session_id} by default for claude-stream-json, none otherwise, [] turns it off', () => {
    const claude = agentOf({ command: ['claude', '-p', '{prompt}'], stdout_adapter: 'claude-stream-json' });
    expect(resumeArgsOf(claude)).toEqual(['--resume', '{session_id}']);
    expect(runCommand(claude, task, { promptFilePath: '/s/p' }).argv).toEqual(['claude', '-p', task.prompt]);
    expect(runCommand(claude, task, { promptFilePath: '/s/p', sessionId: 'sess-9' })).toMatchObject({ argv: ['claude', '-p', task.prompt, '--resume', 'sess-9'], resumedSession: 'sess-9' });
    expect(runCommand(agentOf({ command: ['c'] }), task, { promptFilePath: '/s/p', sessionId: 's' })).toMatchObject({ argv: ['c'], resumedSession: undefined });
    expect(runCommand(agentOf({ command: ['c'], stdout_adapter: 'claude-stream-json', resume_args: [] }), task, { promptFilePath: '/s/p', sessionId: 's' }).argv).toEqual(['c']);
    expect(runCommand(agentOf({ command: ['c'], resume_args: ['--continue-session={session_id}'] }), task, { promptFilePath: '/s/p', sessionId: 's' }).argv).toEqual(['c', '--continue-session=s']);
  });

  it('refuses resume_args without {session_id} in the config, naming the key', () => {
    expect(() => agentOf({ command: ['c'], resume_args: ['--resume'] })).toThrow(/background\.agents\[0\]\.resume_args.*\{session_id\}/s);
  });
});

describe('spawn limits', () => {
  it('reads ARG_MAX as a quarter of the stack limit, between 128 KiB and 6 MiB', () => {
    const limits = (stack: string) => `Limit                     Soft Limit           Hard Limit           Units\nMax stack size            ${stack}              unlimited            bytes\n`;
    expect(argMax(limits('8388608'))).toBe(2_097_152);
    expect(argMax(limits('unlimited'))).toBe(6 * 1024 * 1024);
    expect(argMax(limits('65536'))).toBe(131_072);
    expect(argMax('garbage')).toBe(2_097_152);
  });

  it('refuses an argument over MAX_ARG_STRLEN, naming it, the limit and the way out', () => {
    expect(checkSpawnable('deva_ts', ['claude', 'x'.repeat(MAX_ARG_STRLEN - 1)], {})).toBeUndefined();
    const err = checkSpawnable('deva_ts', ['claude', '-p', 'x'.repeat(MAX_ARG_STRLEN)], {});
    expect(err?.code).toBe('ERR_ARGV_TOO_LONG');
    expect(err?.message).toBe('the command of deva_ts would get an argument of 131,072 bytes (argv[2]); Linux allows at most 131,071 bytes per argument (MAX_ARG_STRLEN 131,072 with its NUL). Pass a long prompt in a file with {prompt_file}, or on stdin with `stdin: prompt` (docs/configuration.md).');
  });

  it('refuses argv plus environment over ARG_MAX', () => {
    const args = Array.from({ length: 21 }, () => 'y'.repeat(100_000));
    const err = checkSpawnable('deva_ts', args, { HOME: '/root' }, 2_097_152);
    expect(err?.message).toMatch(/^the command and environment of deva_ts would take 2,100,\d{3} bytes \(21 arguments, 1 environment variables\); Linux allows 2,097,152/);
    expect(checkSpawnable('deva_ts', args.slice(0, 20), { HOME: '/root' }, 2_097_152)).toBeUndefined();
    expect(checkSpawnable('deva_ts', args, {}, 1_000_000)?.bytes).toBeGreaterThan(1_000_000);
  });
});

describe('prompt files', () => {
  it('writes {prompt_file} as a 0600 file in a 0700 prompts/ directory of the state dir, and removes it', async () => {
    const { mkdtempSync, readFileSync, statSync, existsSync, chmodSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { PromptFiles } = await import('../../../src/supervisor/promptFiles.js');
    const root = mkdtempSync(path.join(tmpdir(), 'prompt-files-'));
    try {
      const pf = new PromptFiles(root);
      const file = pf.pathOf('STORY_1');
      expect(file).toBe(path.join(root, 'prompts', 'STORY_1.prompt'));
      expect(pf.pathOf('../etc/passwd')).toBe(path.join(root, 'prompts', '.._2Fetc_2Fpasswd.prompt'));
      chmodSync(root, 0o700);
      pf.write(file, 'the story');
      expect(readFileSync(file, 'utf8')).toBe('the story');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(pf.dir).mode & 0o777).toBe(0o700);
      chmodSync(file, 0o644);
      pf.write(file, 'again'); // a rewrite is 0600 again
      expect(statSync(file).mode & 0o777).toBe(0o600);
      pf.remove(file);
      expect(existsSync(file)).toBe(false);
      pf.write(pf.pathOf('T2'), 'left by a killed supervisor');
      expect(pf.clear()).toBe(1);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
