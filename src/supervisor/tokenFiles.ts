import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** Fewest characters a bearer token may have (after trimming whitespace). */
export const MIN_TOKEN_LENGTH = 16;

/**
 * A token or secret file that cannot be used: unreadable, empty, or a token shorter
 * than {@link MIN_TOKEN_LENGTH}. A start-up error (the CLI exits 2); the message
 * names the file, what was found, the minimum, and how to fix it.
 */
export class TokenFileError extends Error {
  constructor(readonly code: 'TOKEN_TOO_SHORT' | 'TOKEN_UNREADABLE', message: string, readonly file: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TokenFileError';
  }
}

export interface LoadTokenOptions {
  /** What the file is, for messages: e.g. `the API token file`, `--token-file`. */
  what: string;
  /** Create it (0600, 32 random bytes as hex) when missing. It is never overwritten. Default true. */
  create?: boolean | undefined;
  /** chmod an existing file to 0600 (only for files in our own state directory). Default false. */
  tighten?: boolean | undefined;
}

const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const errnoOf = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

/** Reads a file, or undefined when it does not exist. @throws TokenFileError when it exists but cannot be read. */
function readIfExists(file: string, what: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TokenFileError('TOKEN_UNREADABLE', `Cannot read ${what} ${file} (${errnoOf(err)}): make it readable by this user, or point to another file.`, file, { cause: err });
  }
}

/**
 * The bearer token in `file` (trimmed). A missing file is created (exclusively, mode
 * 0600) with a random token unless `create` is false; an existing file is only read,
 * never rewritten, whatever it holds.
 * @throws TokenFileError when the token is shorter than {@link MIN_TOKEN_LENGTH}, or the file cannot be read or created.
 */
export function loadToken(file: string, opts: LoadTokenOptions): string {
  const abs = path.resolve(file);
  let raw = readIfExists(abs, opts.what);
  if (raw === undefined) {
    if (opts.create === false) throw new TokenFileError('TOKEN_UNREADABLE', `${cap(opts.what)} ${abs} does not exist: create it with a token of at least ${MIN_TOKEN_LENGTH} characters (e.g. openssl rand -hex 32 > ${abs}; chmod 600 ${abs}).`, abs);
    const token = randomBytes(32).toString('hex');
    try {
      // 'wx': never replaces a file another process created in the meantime.
      writeFileSync(abs, `${token}\n`, { mode: 0o600, flag: 'wx', flush: true });
      return token;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new TokenFileError('TOKEN_UNREADABLE', `Cannot create ${opts.what} ${abs} (${errnoOf(err)}): make its directory writable, or create the file yourself.`, abs, { cause: err });
      raw = readIfExists(abs, opts.what) ?? '';
    }
  }
  const token = raw.trim();
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new TokenFileError('TOKEN_TOO_SHORT', `${cap(opts.what)} ${abs} holds a token of ${token.length} character${token.length === 1 ? '' : 's'}; the minimum is ${MIN_TOKEN_LENGTH}. Put a longer one in it (e.g. openssl rand -hex 32 > ${abs})${opts.create === false ? '' : ', or delete the file to have one generated'}.`, abs);
  }
  if (opts.tighten) {
    try {
      chmodSync(abs, 0o600);
    } catch {
      // not ours to change (another owner): it is still only read
    }
  }
  return token;
}

/**
 * A secret such as a password, read from `file` and trimmed (as Prometheus reads its
 * `password_file`).
 * @throws TokenFileError when the file cannot be read or is empty.
 */
export function readSecretFile(file: string, what: string): string {
  const abs = path.resolve(file);
  const raw = readIfExists(abs, what);
  if (raw === undefined) throw new TokenFileError('TOKEN_UNREADABLE', `${cap(what)} ${abs} does not exist: create it (mode 0600) with the password, or fix the path.`, abs);
  const secret = raw.trim();
  if (!secret) throw new TokenFileError('TOKEN_UNREADABLE', `${cap(what)} ${abs} is empty: write the password in it.`, abs);
  return secret;
}
