import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time comparison of a presented token with the expected one (any lengths). */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

export type AuthResult = 'ok' | 'missing' | 'invalid';

/** Checks an `Authorization: Bearer <token>` header. */
export function checkBearer(header: string | undefined, expected: string): AuthResult {
  if (!header) return 'missing';
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return 'invalid';
  return tokenMatches(m[1] as string, expected) ? 'ok' : 'invalid';
}

/**
 * Checks an `Authorization: Basic <base64 user:password>` header against the
 * expected credentials, both parts in constant time.
 */
export function checkBasic(header: string | undefined, expected: { username: string; password: string }): boolean {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (!m) return false;
  const decoded = Buffer.from(m[1] as string, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return false;
  const userOk = tokenMatches(decoded.slice(0, i), expected.username);
  const passOk = tokenMatches(decoded.slice(i + 1), expected.password);
  return userOk && passOk;
}
