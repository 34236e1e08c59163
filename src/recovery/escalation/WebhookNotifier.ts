import { hostname } from 'node:os';
import type { RetryPolicy } from 'cockatiel';
import { VERSION } from '../../version.js';
import { DeliveryError, errorText } from './DeliveryError.js';
import { DeliveryQueue } from './DeliveryQueue.js';
import { deliveryRetry, type BackoffOptions } from './deliveryRetry.js';
import { escalationPayload } from './formatEscalation.js';
import type { AlertLog, ChannelCounters, Escalation, Notifier } from './Notifier.js';

/** Options of a WebhookNotifier. */
export interface WebhookNotifierOptions {
  /** An http(s) URL. It may carry a secret (Slack), so logs show only its origin. */
  url: string;
  /** Time allowed for each attempt, response body included (ms). Default 5000. */
  timeoutMs?: number;
  /** Attempts after the first one fails. Default 3. */
  retries?: number;
  /** Delays between attempts. Default 1 s doubling up to 30 s, with jitter. */
  backoff?: BackoffOptions;
  /** Escalations that may wait behind the one in flight. Default 100. */
  capacity?: number;
  /** The `host` field of the payload. Default os.hostname(). */
  host?: string;
  log: AlertLog;
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);

/**
 * POSTs each escalation as JSON (`{version: 1, kind: 'escalation', agent, role,
 * replica, reason, detail, at, host}`) to a webhook. Deliveries run one at a time
 * in the background, each attempt bounded by a timeout, with retries and
 * exponential backoff; the queue is bounded, so a slow or dead webhook never
 * blocks the supervisor nor grows its memory. Drops are counted.
 */
export class WebhookNotifier implements Notifier {
  readonly channel = 'webhook';
  private readonly queue: DeliveryQueue<Escalation>;
  private readonly policy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly host: string;
  private readonly target: string;

  constructor(private readonly opts: WebhookNotifierOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.host = opts.host ?? hostname();
    this.target = new URL(opts.url).origin;
    this.policy = deliveryRetry(opts.retries ?? 3, opts.backoff);
    this.policy.onRetry((r) => opts.log.debug({ channel: 'webhook', target: this.target, attempt: r.attempt, delay_ms: Math.round(r.delay), err: 'error' in r ? errorText(r.error) : undefined }, `webhook alert attempt failed; retrying in ${Math.round(r.delay)} ms`));
    this.queue = new DeliveryQueue({
      capacity: opts.capacity,
      deliver: (e, signal) => this.policy.execute(({ signal: s }) => this.post(e, s), signal),
      onFailure: (e, err) => opts.log.error({ channel: 'webhook', agent: e.agent, replica: e.slot, escalation: e.reason, target: this.target, err: errorText(err) }, `webhook alert for ${e.slot} not delivered to ${this.target}: ${errorText(err)}; check background.monitoring.alerts.webhook`),
      onDrop: (e, why) => opts.log.warn({ channel: 'webhook', agent: e.agent, replica: e.slot, escalation: e.reason, why }, `webhook alert for ${e.slot} dropped (${why === 'queue_full' ? 'too many alerts waiting for a slow webhook' : 'the supervisor is stopping'})`),
    });
  }

  notify(e: Escalation): void {
    this.queue.push(e);
  }

  counters(): ChannelCounters {
    return this.queue.counters();
  }

  close(graceMs?: number): Promise<void> {
    return this.queue.close(graceMs);
  }

  private async post(e: Escalation, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new DeliveryError('ALERT_ABORTED', 'the supervisor is stopping', false);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    let res: Response;
    try {
      res = await fetch(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': `agentic-supervisor/${VERSION}` },
        body: JSON.stringify(escalationPayload(e, this.host)),
        signal: AbortSignal.any([signal, timeout]),
        redirect: 'error',
      });
      await res.arrayBuffer(); // read the body within the same deadline, so the connection can be reused
    } catch (err) {
      if (timeout.aborted) throw new DeliveryError('ALERT_TIMEOUT', `no answer within ${this.timeoutMs} ms`, true, { cause: err });
      if (signal.aborted) throw new DeliveryError('ALERT_ABORTED', 'the supervisor is stopping', false, { cause: err });
      throw new DeliveryError('ALERT_NETWORK', errorText(err), true, { cause: err });
    }
    if (!res.ok) {
      const retryable = res.status >= 500 || RETRYABLE_STATUS.has(res.status);
      throw new DeliveryError('ALERT_HTTP_STATUS', `HTTP ${res.status}${retryable ? '' : ' (not retried)'}`, retryable);
    }
  }
}
