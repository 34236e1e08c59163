// No import of pg here: the config check at start uses this without loading the driver.

/** The connection URL could not be used: malformed, or the server could not be reached or refused us. */
export class PgConnectionError extends Error {
  readonly code = 'ERR_PG_CONNECTION';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PgConnectionError';
  }
}

/** The URL with its password replaced by `***`, for messages and logs (a URL that does not parse: a placeholder). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '<not a URL>';
  }
}

/**
 * Checks a connection URL before any connection: `postgres://` or `postgresql://`, a host,
 * a database name. The message names what was expected and what was found (password hidden).
 * @throws PgConnectionError
 */
export function checkPgUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PgConnectionError(`expected a PostgreSQL connection URL such as postgres://user@host:5432/dbname, got ${JSON.stringify(url.length > 80 ? `${url.slice(0, 80)}…` : url.replace(/:[^:@/]*@/, ':***@'))}`);
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') throw new PgConnectionError(`expected a URL starting postgres:// or postgresql://, got ${u.protocol}// in ${redactUrl(url)}`);
  if (!u.hostname) throw new PgConnectionError(`expected a host in the PostgreSQL URL, got none in ${redactUrl(url)}`);
  if (u.pathname.length <= 1) throw new PgConnectionError(`expected a database name in the PostgreSQL URL (postgres://host:5432/dbname), got none in ${redactUrl(url)}`);
  return u;
}
