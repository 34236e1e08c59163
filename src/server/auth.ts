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
