/**
 * Property-based fuzzing of the config loader: whatever the file holds (bytes,
 * YAML built from its trickiest tokens, well-formed YAML with values of every
 * type at every key), loadConfig returns a frozen config or throws a ConfigError
 * whose message is printable and bounded; nothing else ever escapes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/config/ConfigError.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { fuzzParams } from './fuzzParams.js';
import { firstControlChar } from '../helpers/controlChars.js';

const tmp = mkdtempSync(path.join(tmpdir(), 'agentic-config-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const file = path.join(tmp, 'config.yaml');

/** Loads `content` as the CLI would; fails the property on anything but success or a well-formed ConfigError. */
function loadsOrConfigError(content: string | Uint8Array): void {
  writeFileSync(file, content);
  try {
    const cfg = loadConfig(file);
    expect(Object.isFrozen(cfg.background)).toBe(true);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw new Error(`loadConfig threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, { cause: err });
    expect(err.problems.length).toBeGreaterThan(0);
    expect(err.exitCode).toBe(2);
    expect(firstControlChar(err.message)).toBeUndefined();
    const lines = err.message.split('\n');
    expect(lines.length).toBeLessThanOrEqual(53); // head, at most 50 problems and "… and N more", the advice
    for (const l of lines) expect(l.length).toBeLessThan(1200);
  }
}

const TOKENS = [
  'background:', 'agents:', 'monitoring:', 'server:', 'x-a:', '- ', 'name: ', 'command: ', 'port: ', 'env: ', 'replicas: ',
  '\n', '\n  ', '\n    ', '\n      ', '  ', '\t', '\r\n', ' ', ': ', ':', ',', '[', ']', '{', '}', '? ', '| ', '> ', '"', "'", '# c',
  '&a ', '*a', '<<: ', '<<: *a', '!!str ', '!!int ', '!!binary ', '!!set ', '!!map ', '!!seq ', '!!null ', '!!timestamp ', '!tag ', '!<tag:x> ',
  '%YAML 1.2\n', '%TAG ! tag:x:\n', '---\n', '...\n', '-', '~', 'null', 'true', 'no', '0', '-1', '0x1F', '0o17', '1e999', '.nan', '-.inf', '1_000',
  '"\\e[2J"', '"\\u202e"', '"\\0"', '"\\x80"', '__proto__', 'constructor', 'prototype', 'qaa', 'per_task', '"30s"', '2023-01-01',
];
const yamlish = fc.array(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...TOKENS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }), { maxLength: 60 }).map((t) => t.join(''));

const scalar = fc.oneof(fc.string({ maxLength: 20 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom('30s', '500ms', '-1', 'qaa', '127.0.0.1', 'http://x'));
const anyValue = fc.oneof({ weight: 4, arbitrary: scalar }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) }, { weight: 1, arbitrary: fc.array(scalar, { maxLength: 4 }) });
/** A config of the right shape, with values of any type at real and misspelt keys. */
const shaped = fc.record({
  background: fc.record({
    state_dir: anyValue,
    server: fc.oneof(anyValue, fc.record({ host: anyValue, port: anyValue, body_limit_bytes: anyValue, metrics_auth: anyValue }, { requiredKeys: [] })),
    logging: fc.oneof(anyValue, fc.record({ level: anyValue, max_file_size_mb: anyValue }, { requiredKeys: [] })),
    monitoring: fc.oneof(anyValue, fc.record({ check_interval: anyValue, recovery: fc.dictionary(fc.constantFrom('base_delay', 'max_delay', 'jitter', 'restart_attempts', 'breaker_cooldown', 'bse_delay'), anyValue) }, { requiredKeys: [] })),
    agents: fc.oneof(anyValue, fc.array(fc.record({
      name: fc.oneof(fc.constantFrom('qaa', 'deva_python', 'Bad-Name'), anyValue),
      command: fc.oneof(fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }), anyValue),
      mode: fc.oneof(fc.constantFrom('service', 'per_task'), anyValue),
      replicas: anyValue, env: fc.oneof(fc.dictionary(fc.string({ maxLength: 8 }), anyValue, { maxKeys: 3 }), anyValue), probe: anyValue, connectivity: anyValue, restart: anyValue,
    }, { requiredKeys: [] }), { maxLength: 3 })),
  }, { requiredKeys: [] }),
}, { requiredKeys: [] });

describe('loadConfig never throws anything but a ConfigError', () => {
  it('for arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => loadsOrConfigError(bytes)), fuzzParams(400));
  });

  it('for text made of YAML\'s trickiest tokens (anchors, aliases, merges, tags, directives, flow and block styles)', () => {
    fc.assert(fc.property(yamlish, (text) => loadsOrConfigError(text)), fuzzParams(600));
  });

  it('for well-formed YAML with values of every type at real and misspelt keys', () => {
    fc.assert(fc.property(shaped, (value) => loadsOrConfigError(stringify(value))), fuzzParams(300));
  });

  it('for deeply nested and alias-heavy documents', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 3000 }), fc.constantFrom('[', '{a: ', '- '), (depth, open) => {
      const deep = open === '- ' ? Array.from({ length: Math.min(depth, 2000) }, (_, i) => `${' '.repeat(i * 2)}- `).join('\n') + 'x' : `background:\n  x-deep: ${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}\n`;
      loadsOrConfigError(deep);
    }), fuzzParams(15));
    // a billion laughs
    const laughs = ['x-0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...Array.from({ length: 9 }, (_, i) => `x-${i + 1}: &a${i + 1} [${Array(9).fill(`*a${i}`).join(',')}]`), 'background: {}'].join('\n');
    loadsOrConfigError(laughs);
  });
});
