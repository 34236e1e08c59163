import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateDir } from '../../../src/supervisor/StateDir.js';
import { loadToken, MIN_TOKEN_LENGTH, readSecretFile, TokenFileError } from '../../../src/supervisor/tokenFiles.js';

const mode = (f: string) => statSync(f).mode & 0o777;

describe('token files', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'agentic-tokens-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a missing token file, mode 0600, with 64 hex characters', () => {
    const f = path.join(dir, 'api.token');
    const t = loadToken(f, { what: 'the API token file' });
    expect(t).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(f, 'utf8')).toBe(`${t}\n`);
    expect(mode(f)).toBe(0o600);
    expect(loadToken(f, { what: 'the API token file' })).toBe(t); // read back, not regenerated
  });

  it('reads an existing token (trimmed) and leaves the file exactly as it was', () => {
    const f = path.join(dir, 'mine.token');
    writeFileSync(f, '  my-own-token-0123456789  \n\n', { mode: 0o640 });
    chmodSync(f, 0o640);
    expect(loadToken(f, { what: '--token-file' })).toBe('my-own-token-0123456789');
    expect(readFileSync(f, 'utf8')).toBe('  my-own-token-0123456789  \n\n');
    expect(mode(f)).toBe(0o640);
  });

  it('tightens an existing state-directory token to 0600 without rewriting it', () => {
    const d = new StateDir(dir);
    writeFileSync(d.tokenFile, 'state-dir-token-0123456789\n', { mode: 0o644 });
    chmodSync(d.tokenFile, 0o644);
    expect(d.ensureToken(d.tokenFile)).toBe('state-dir-token-0123456789');
    expect(mode(d.tokenFile)).toBe(0o600);
    expect(readFileSync(d.tokenFile, 'utf8')).toBe('state-dir-token-0123456789\n');
  });

  it(`refuses a token shorter than ${MIN_TOKEN_LENGTH} characters, naming the file and the minimum, and leaves it alone`, () => {
    const f = path.join(dir, 'short.token');
    writeFileSync(f, 'abc123\n');
    let err: unknown;
    try { loadToken(f, { what: '--token-file' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(TokenFileError);
    expect((err as TokenFileError).code).toBe('TOKEN_TOO_SHORT');
    expect((err as Error).message).toBe(`--token-file ${f} holds a token of 6 characters; the minimum is 16. Put a longer one in it (e.g. openssl rand -hex 32 > ${f}), or delete the file to have one generated.`);
    expect(readFileSync(f, 'utf8')).toBe('abc123\n');
  });

  it('accepts exactly the minimum and refuses one less (whitespace does not count)', () => {
    const f = path.join(dir, 't');
    writeFileSync(f, `${'x'.repeat(MIN_TOKEN_LENGTH)}\n`);
    expect(loadToken(f, { what: 'x' })).toHaveLength(MIN_TOKEN_LENGTH);
    writeFileSync(f, ` ${'x'.repeat(MIN_TOKEN_LENGTH - 1)} \n`);
    expect(() => loadToken(f, { what: 'x' })).toThrow(/15 characters; the minimum is 16/);
  });

  it('refuses an empty existing file instead of replacing it', () => {
    const f = path.join(dir, 'empty.token');
    writeFileSync(f, '');
    expect(() => loadToken(f, { what: 'the webhook token file' })).toThrow(/holds a token of 0 characters/);
    expect(readFileSync(f, 'utf8')).toBe('');
  });

  it('does not create a missing file when told not to', () => {
    const f = path.join(dir, 'nope');
    expect(() => loadToken(f, { what: '--token-file', create: false })).toThrow(/does not exist: create it with a token of at least 16 characters/);
  });

  it('names a file it cannot read', () => {
    expect(() => loadToken(dir, { what: 'the API token file' })).toThrow(new RegExp(`Cannot read the API token file ${dir} \\(EISDIR\\)`));
  });

  it('reads a password file trimmed, and refuses a missing or empty one', () => {
    const f = path.join(dir, 'pw');
    writeFileSync(f, 'secret pass\n');
    expect(readSecretFile(f, 'the /metrics password file')).toBe('secret pass');
    writeFileSync(f, '\n');
    expect(() => readSecretFile(f, 'the /metrics password file')).toThrow(/is empty/);
    expect(() => readSecretFile(path.join(dir, 'missing'), 'the /metrics password file')).toThrow(/does not exist/);
  });
});
