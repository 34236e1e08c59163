import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_ARG_BYTES, MAX_ARGV_BYTES, argvBytes } from '../../src/config/argvLimits.js';
import { ConfigError, type ConfigProblem } from '../../src/config/ConfigError.js';
import { loadConfig, parseConfig } from '../../src/config/loadConfig.js';
import { printable } from '../../src/config/printable.js';
import { requireAgents } from '../../src/config/requireAgents.js';
import { firstControlChar } from '../helpers/controlChars.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'agentic-config-input-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fileWith = (content: string | Buffer) => {
  const file = path.join(tmp, `c${++n}.yaml`);
  writeFileSync(file, content);
  return file;
};
const errorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
};
const problemsOf = (fn: () => unknown): ConfigProblem[] => [...errorOf(fn).problems];
const withCommand = (command: string[], extra: Record<string, unknown> = {}) => ({ background: { agents: [{ name: 'qaa', command, ...extra }] } });

describe('command lines that the kernel would refuse (E2BIG)', () => {
  it('accepts an argument of exactly MAX_ARG_BYTES (131071) bytes, counted in UTF-8', () => {
    expect(MAX_ARG_BYTES).toBe(131071);
    expect(() => parseConfig(withCommand(['node', 'x'.repeat(MAX_ARG_BYTES)]))).not.toThrow();
    expect(() => parseConfig(withCommand(['node', 'é'.repeat((MAX_ARG_BYTES - 1) / 2)]))).not.toThrow(); // 2 bytes each
  });

  it('refuses one byte more, at the argument\'s own key, naming the limit and the size found', () => {
    expect(problemsOf(() => parseConfig(withCommand(['node', 'x'.repeat(MAX_ARG_BYTES + 1)])))).toEqual([{
      path: 'background.agents[0].command[1]',
      message: 'expected an argument of at most 131071 bytes (Linux refuses a longer one: MAX_ARG_STRLEN is 128 KiB), got 131072 bytes; pass large data in a file (a path argument) or through the agent protocol instead',
    }]);
    // 65,536 two-byte characters: short in characters, too long in bytes
    expect(problemsOf(() => parseConfig(withCommand(['node', 'é'.repeat(65_536)])))[0]).toMatchObject({ path: 'background.agents[0].command[1]', message: expect.stringContaining('got 131072 bytes') });
  });

  it('refuses a command line over MAX_ARGV_BYTES (1 MiB) in all, even when each argument fits', () => {
    const arg = 'y'.repeat(100_000);
    const fits = Array.from({ length: 10 }, () => arg);
    expect(argvBytes(['node', ...fits])).toBeLessThanOrEqual(MAX_ARGV_BYTES);
    expect(() => parseConfig(withCommand(['node', ...fits]))).not.toThrow();
    const tooMany = Array.from({ length: 11 }, () => arg);
    const total = argvBytes(['node', ...tooMany]);
    expect(problemsOf(() => parseConfig(withCommand(['node', ...tooMany])))).toEqual([{
      path: 'background.agents[0].command',
      message: `expected a command line of at most 1048576 bytes in all (half of Linux's usual 2 MiB ARG_MAX; the rest is left to the environment), got ${total} bytes in 12 arguments; pass large data in a file (a path argument) or through the agent protocol instead`,
    }]);
  });

  it('counts each argument\'s bytes, its NUL and its 8-byte pointer, plus the closing NULL pointer', () => {
    expect(argvBytes([])).toBe(8);
    expect(argvBytes(['ab', 'é'])).toBe(8 + (2 + 1 + 8) + (2 + 1 + 8));
  });

  it('checks probe commands the same way', () => {
    const cfg = withCommand(['node'], { probe: { type: 'exec', command: ['check', 'z'.repeat(MAX_ARG_BYTES + 1)] } });
    expect(problemsOf(() => parseConfig(cfg)).map((p) => p.path)).toEqual(['background.agents[0].probe.command[1]']);
  });

  it('refuses an environment entry NAME=value over MAX_ARG_BYTES, at its key', () => {
    const ok = 'v'.repeat(MAX_ARG_BYTES - 'BIG='.length);
    expect(() => parseConfig(withCommand(['node'], { env: { BIG: ok } }))).not.toThrow();
    expect(problemsOf(() => parseConfig(withCommand(['node'], { env: { BIG: `${ok}v` } })))).toEqual([{
      path: 'background.agents[0].env.BIG',
      message: 'expected an environment entry (NAME=value) of at most 131071 bytes (Linux refuses a longer one: MAX_ARG_STRLEN is 128 KiB), got 131072 bytes; put large data in a file and pass its path',
    }]);
  });

  it('shows a 2 MB argument in the message as a bounded excerpt', () => {
    const err = errorOf(() => loadConfig(fileWith(`background:\n  agents:\n    - name: qaa\n      command: [node, "${'x'.repeat(2 * 1024 * 1024)}"]\n`)));
    expect(err.message.length).toBeLessThan(1500);
  });
});

describe('config files that are not YAML text', () => {
  it('reports a binary file once, with the first bad byte\'s offset, line and column and a printable excerpt', () => {
    const bytes = Buffer.concat([Buffer.from('background:\n  x: 1\n'), Buffer.from([0x00, 0x01, 0x1b, 0x9b, 0xff]), Buffer.alloc(10_000, 0x41)]);
    const problems = problemsOf(() => loadConfig(fileWith(bytes)));
    expect(problems).toEqual([{
      path: '(file)',
      message: 'expected a YAML text file (UTF-8 without control characters), got binary data: a NUL byte at byte offset 19 (line 3, column 1), near "…kground:\\n  x: 1\\n\\x00\\x01\\x1b\\x9b\\xffAAAAAAAAAAA…"; check that --config names your YAML config file',
    }]);
  });

  it('reports invalid UTF-8 (a Latin-1 file) with what to do', () => {
    const problems = problemsOf(() => loadConfig(fileWith(Buffer.from('# caf\xe9\nbackground: {}\n', 'latin1'))));
    expect(problems[0]?.message).toBe('expected a YAML text file (UTF-8 without control characters), got binary data: an invalid UTF-8 sequence (byte 0xe9) at byte offset 5 (line 1, column 6), near "# caf\\xe9\\nbackground: {}…"; check that --config names your YAML config file; a text file in another encoding must be saved as UTF-8');
  });

  it('reports one stray control character in a text file as such, with how to write it', () => {
    const problems = problemsOf(() => loadConfig(fileWith('background:\n  agents:\n    - name: "\x1b[31mqaa"\n')));
    expect(problems[0]?.message).toMatch(/^expected a YAML text file \(UTF-8 without control characters\), got the control character U\+001B at byte offset 35 \(line 3, column 14\), near ".*"; remove it, or write it as an escape inside a double-quoted string \(e\.g\. "\\e" for ESC\)$/);
  });

  it('accepts UTF-8 text with a byte-order mark, tabs, CRLF line ends and non-ASCII characters', () => {
    const cfg = loadConfig(fileWith('\ufeffbackground:\r\n  agents:\r\n    - name: qaa\r\n      command: ["node", "\tcafé ☕ 𝄞"]\r\n'));
    expect(cfg.background.agents[0]?.command).toEqual(['node', '\tcafé ☕ 𝄞']);
  });
});

describe('the message of a ConfigError', () => {
  it('escapes what a terminal would act on, also when YAML escapes put it in a key', () => {
    const err = errorOf(() => loadConfig(fileWith('background:\n  "\\e[2Jkey\\u202e": 1\n  agents:\n    - name: "\\e[31mred"\n      command: [x]\n')));
    expect(err.problems.map((p) => p.path)).toContain('background.\x1b[2Jkey\u202e');
    expect(firstControlChar(err.message)).toBeUndefined();
    expect(err.message).toContain('background.\\x1b[2Jkey\\u{202e}: unknown key');
  });

  it('lists at most 50 problems and counts the rest; `problems` keeps them all', () => {
    const agents = Array.from({ length: 60 }, (_, i) => ({ name: `Bad-${i}`, command: ['x'] }));
    const err = errorOf(() => parseConfig({ background: { agents } }));
    expect(err.problems).toHaveLength(60);
    expect(err.message.split('\n').filter((l) => l.startsWith('  - '))).toHaveLength(50);
    expect(err.message).toContain('  … and 10 more problems\n');
  });

  it('cuts a very long path or message, saying how much was left out', () => {
    expect(printable('a'.repeat(310), 300)).toBe(`${'a'.repeat(300)}… (10 more characters)`);
    expect(printable('tab\there\r\n\x00\x7f\u200f', 300)).toBe('tab\\there\\r\\n\\x00\\x7f\\u{200f}');
  });
});

describe('a config with no agents', () => {
  it('is refused for start, naming background.agents and what to add', () => {
    expect(problemsOf(() => requireAgents(parseConfig({})))).toEqual([{
      path: 'background.agents',
      message: 'expected at least one agent to supervise, got none (no agents configured); add a list under background:, for example "agents: [{name: qaa, command: [node, qaa.js]}]" (see docs/configuration.md, "background.agents[]")',
    }]);
    expect(() => requireAgents(parseConfig(withCommand(['node'])))).not.toThrow();
  });

  it('can still be loaded by other commands (it names a state_dir)', () => {
    expect(loadConfig(fileWith('')).background.agents).toEqual([]);
  });
});
