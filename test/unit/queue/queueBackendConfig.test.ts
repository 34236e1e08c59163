import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePgUrl } from '../../../src/cli/queueBackend.js';
import { ConfigError } from '../../../src/config/ConfigError.js';
import { parseConfig } from '../../../src/config/loadConfig.js';

const problems = (queue: Record<string, unknown>): string[] => {
  try {
    parseConfig({ background: { queue } });
    return [];
  } catch (err) {
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
};
const queueOf = (queue: Record<string, unknown>) => parseConfig({ background: { queue } }).background.queue;
const errorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
};

const dir = mkdtempSync(path.join(tmpdir(), 'queue-backend-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('background.queue.backend and background.queue.postgres', () => {
  it('defaults to sqlite with no postgres settings', () => {
    expect(queueOf({})).toMatchObject({ backend: 'sqlite' });
    expect(queueOf({}).postgres).toBeUndefined();
    expect(queueOf({ backend: 'postgres', postgres: { url_env: 'AGENTIC_QUEUE_URL' } }).postgres).toEqual({ url_env: 'AGENTIC_QUEUE_URL', lease_seconds: 30 });
    expect(queueOf({ backend: 'postgres', postgres: { url_file: '/etc/pg-url' } }).postgres).toEqual({ url_file: '/etc/pg-url', lease_seconds: 30 });
  });

  it('names the key, the expectation and the finding for each mistake', () => {
    expect(problems({ backend: 'postgre' })).toEqual(['background.queue.backend: expected one of "sqlite", "postgres", got "postgre"; did you mean "postgres"?']);
    expect(problems({ backend: 'postgres' })).toEqual(['background.queue.postgres: expected url_env or url_file when background.queue.backend is postgres, got neither']);
    expect(problems({ backend: 'postgres', postgres: { url_env: 'A', url_file: '/f' } })).toEqual(['background.queue.postgres: expected one of url_env or url_file, got both']);
    expect(problems({ backend: 'postgres', postgres: { url: 'postgres://u:pw@db/q' } })).toEqual([
      'background.queue.postgres.url: expected url_env or url_file: a connection URL holds the password and is never written in the config, got an inline url',
      'background.queue.postgres: expected url_env or url_file when background.queue.backend is postgres, got neither',
    ]);
    expect(problems({ backend: 'postgres', postgres: { url_env: 'not a name' } })[0]).toMatch(/^background\.queue\.postgres\.url_env: expected the name of an environment variable holding the connection URL, such as AGENTIC_QUEUE_URL, got "not a name"/);
    expect(problems({ backend: 'postgres', postgres: { url_env: 'A', lease: 30 } })[0]).toMatch(/^background\.queue\.postgres\.lease: unknown key/);
  });

  it('reads the URL from the environment variable or the file, and checks its shape without showing the password', () => {
    const q = queueOf({ backend: 'postgres', postgres: { url_env: 'AGENTIC_QUEUE_URL' } });
    expect(resolvePgUrl(q, { AGENTIC_QUEUE_URL: 'postgres://agentic:pw@db:5432/queue\n' })).toBe('postgres://agentic:pw@db:5432/queue');
    expect(errorOf(() => resolvePgUrl(q, {})).problems).toEqual([{ path: 'background.queue.postgres.url_env', message: 'expected the environment variable AGENTIC_QUEUE_URL to hold the PostgreSQL connection URL, got it unset' }]);
    const bad = errorOf(() => resolvePgUrl(q, { AGENTIC_QUEUE_URL: 'mysql://agentic:pw@db/queue' }));
    expect(bad.problems).toEqual([{ path: 'background.queue.postgres.url_env', message: 'expected a URL starting postgres:// or postgresql://, got mysql:// in mysql://agentic:***@db/queue' }]);
    expect(bad.exitCode).toBe(2);
    const file = path.join(dir, 'pg-url');
    writeFileSync(file, 'postgresql://agentic:pw@db/queue\n', { mode: 0o600 });
    expect(resolvePgUrl(queueOf({ backend: 'postgres', postgres: { url_file: file } }), {})).toBe('postgresql://agentic:pw@db/queue');
    const missing = errorOf(() => resolvePgUrl(queueOf({ backend: 'postgres', postgres: { url_file: path.join(dir, 'nope') } }), {}));
    expect(missing.problems[0]).toMatchObject({ path: 'background.queue.postgres.url_file' });
    expect(missing.problems[0]!.message).toMatch(/^expected a readable, non-empty file holding the PostgreSQL connection URL, got The PostgreSQL URL file .*nope does not exist/);
  });

  it('lease_seconds: 30 by default, a number of seconds from 1 to 3600, refused by its key otherwise', () => {
    expect(queueOf({ backend: 'postgres', postgres: { url_env: 'AGENTIC_QUEUE_URL' } }).postgres?.lease_seconds).toBe(30);
    expect(queueOf({ backend: 'postgres', postgres: { url_env: 'AGENTIC_QUEUE_URL', lease_seconds: 3 } }).postgres?.lease_seconds).toBe(3);
    const [zero] = problems({ backend: 'postgres', postgres: { url_env: 'AGENTIC_QUEUE_URL', lease_seconds: 0 } });
    expect(zero).toMatch(/^background\.queue\.postgres\.lease_seconds: expected .*seconds.*, got 0/);
    expect(problems({ backend: 'postgres', postgres: { url_env: 'AGENTIC_QUEUE_URL', lease_seconds: 'long' } })[0]).toMatch(/^background\.queue\.postgres\.lease_seconds: /);
  });
});
