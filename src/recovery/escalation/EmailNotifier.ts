import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { DeliveryError, errorText } from './DeliveryError.js';
import { DeliveryQueue } from './DeliveryQueue.js';
import { deliveryRetry, type BackoffOptions } from './deliveryRetry.js';
import { escalationSubject, escalationText } from './formatEscalation.js';
import type { AlertLog, ChannelCounters, Escalation, Notifier } from './Notifier.js';

/** The SMTP server (the shape of `alerts.email.smtp`). */
export interface SmtpSettings {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when offered. */
  secure: boolean;
  username?: string | undefined;
  /** A file holding the password, read at each delivery (so it can be rotated). */
  password_file?: string | undefined;
}

/** Options of an EmailNotifier. */
export interface EmailNotifierOptions {
  recipients: readonly string[];
  from: string;
  smtp: SmtpSettings;
  /** Attempts after the first fails (network errors, SMTP 4xx). Default 2. */
  retries?: number;
  backoff?: BackoffOptions;
  /** Time allowed to connect, and for the greeting (ms). Default 10000; the socket idle limit is three times it. */
  timeoutMs?: number;
  /** Escalations that may wait behind the one in flight. Default 100. */
  capacity?: number;
  /** Put into the body's commands as `--state-dir`. */
  stateDir?: string | undefined;
  host?: string;
  log: AlertLog;
}

/**
 * Emails each escalation through an SMTP server with nodemailer: a readable
 * subject (`[agentic] qaa-0: circuit breaker open`) and a plain-text body that
 * names the agent, role, replica, reason, detail and time and says what to do
 * next. Deliveries run in the background on a bounded queue; failures are logged
 * and counted, never thrown.
 */
export class EmailNotifier implements Notifier {
  readonly channel = 'email';
  private readonly queue: DeliveryQueue<Escalation>;
  /** `host:port` of the SMTP server, for logs and status. */
  readonly server: string;

  constructor(private readonly opts: EmailNotifierOptions) {
    this.server = `${opts.smtp.host}:${opts.smtp.port}`;
    const policy = deliveryRetry(opts.retries ?? 2, opts.backoff);
    policy.onRetry((r) => opts.log.debug({ channel: 'email', server: this.server, attempt: r.attempt, err: 'error' in r ? errorText(r.error) : undefined }, `email alert attempt failed; retrying in ${Math.round(r.delay)} ms`));
    this.queue = new DeliveryQueue({
      capacity: opts.capacity,
      deliver: (e, signal) => policy.execute(({ signal: s }) => this.send(e, s), signal),
      onFailure: (e, err) => opts.log.error({ channel: 'email', agent: e.agent, replica: e.slot, escalation: e.reason, server: this.server, err: errorText(err) }, `email alert for ${e.slot} not delivered through SMTP ${this.server}: ${errorText(err)}; check background.monitoring.alerts.email.smtp`),
      onDrop: (e, why) => opts.log.warn({ channel: 'email', agent: e.agent, replica: e.slot, escalation: e.reason, why }, `email alert for ${e.slot} dropped (${why === 'queue_full' ? 'too many alerts waiting for a slow SMTP server' : 'the supervisor is stopping'})`),
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

  private async send(e: Escalation, signal: AbortSignal): Promise<void> {
    if (signal.aborted) throw new DeliveryError('ALERT_ABORTED', 'the supervisor is stopping', false);
    const { smtp } = this.opts;
    const timeout = this.opts.timeoutMs ?? 10_000;
    // nodemailer loads with the first alert email: a supervisor that sends none does not carry it (1.8 MB of RSS).
    const { default: nodemailer } = await import('nodemailer');
    const transport = nodemailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      auth: smtp.username ? { user: smtp.username, pass: await this.password() } : undefined,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: 3 * timeout,
    });
    const onAbort = () => transport.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await transport.sendMail({
        from: this.opts.from,
        to: [...this.opts.recipients],
        subject: escalationSubject(e),
        text: escalationText(e, { stateDir: this.opts.stateDir, host: this.opts.host ?? hostname() }),
        headers: { 'X-Agentic-Alert': e.reason, 'X-Agentic-Agent': e.agent },
      });
    } catch (err) {
      if (signal.aborted) throw new DeliveryError('ALERT_ABORTED', 'the supervisor is stopping', false, { cause: err });
      const code = (err as { responseCode?: number }).responseCode;
      // No SMTP reply code means the network or a timeout: worth another try. 4xx is transient, 5xx is final.
      throw new DeliveryError('ALERT_SMTP', errorText(err), code === undefined || (code >= 400 && code < 500), { cause: err });
    } finally {
      signal.removeEventListener('abort', onAbort);
      transport.close();
    }
  }

  private async password(): Promise<string | undefined> {
    const file = this.opts.smtp.password_file;
    if (!file) return undefined;
    try {
      return (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new DeliveryError('ALERT_CONFIG', `cannot read background.monitoring.alerts.email.smtp.password_file ${file}: ${errorText(err)}`, false, { cause: err });
    }
  }
}
