/** Node's socket errors that mean "the server could not be reached" (they pass once it is back). */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether `err` says the PostgreSQL server is unreachable or going away (an outage that
 * passes), not that the statement was wrong: SQLSTATE class 08 (connection exception),
 * 57P01..57P03 (shut down, crash, cannot connect now), a socket error, or node-postgres'
 * own "connection terminated" and pool connect timeout.
 */
export function isTransientPgError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || SOCKET_CODES.has(code))) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended/i.test(err.message);
}
