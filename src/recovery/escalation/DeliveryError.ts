/** Why an alert delivery failed, with a stable code. */
export type DeliveryErrorCode = 'ALERT_TIMEOUT' | 'ALERT_HTTP_STATUS' | 'ALERT_NETWORK' | 'ALERT_SMTP' | 'ALERT_CONFIG' | 'ALERT_ABORTED';

/**
 * A failed alert delivery. `retryable` says whether another attempt may succeed
 * (timeouts, network errors, HTTP 408/429/5xx, SMTP 4xx) or not (HTTP 4xx,
 * SMTP 5xx such as a rejected login, an unreadable password file).
 */
export class DeliveryError extends Error {
  override readonly name = 'DeliveryError';

  constructor(
    readonly code: DeliveryErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when another attempt may succeed: anything that is not a DeliveryError marked permanent. */
export const isRetryable = (err: unknown): boolean => !(err instanceof DeliveryError) || err.retryable;

/** The most useful one-line message of an error and its causes (fetch hides the reason in `cause`). */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = err.cause instanceof Error ? err.cause.message : undefined;
  return cause && !err.message.includes(cause) ? `${err.message}: ${cause}` : err.message;
}
