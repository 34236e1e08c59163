import type { ControllerResult } from '../telemetry/metrics/controllerMetrics.js';
import { INBOX_LIMIT, type QueuedAlert } from './AlertInbox.js';
import { alertKey, type AlertmanagerAlert, type AlertmanagerPayload } from './alertmanagerPayload.js';
import type { AlertDecision, DecisionStore } from './DecisionStore.js';
import { QueueDrain } from './QueueDrain.js';
import { coolingText, type RestartRateLimiter } from './RestartRateLimiter.js';
import { alertTarget, type OkTarget, type SupervisorPort, type TargetCheck } from './SupervisorPort.js';

/** The metrics the controller reports (`ControllerMetrics` of src/telemetry/metrics). */
export interface ControllerMetricsSink {
  action(action: 'restart', result: ControllerResult): void;
  decisionSeconds(seconds: number): void;
}

type LogFn = (obj: Record<string, unknown>, msg: string) => void;
export interface ControllerLog { info: LogFn; warn: LogFn; error: LogFn }

export interface RecoveryControllerOptions {
  store: DecisionStore;
  limiter: RestartRateLimiter;
  port: SupervisorPort;
  log: ControllerLog;
  metrics?: ControllerMetricsSink | undefined;
  /** Wall clock for decision timestamps, epoch ms. Default Date.now. */
  now?: (() => number) | undefined;
}

/** Too many alerts wait to be decided: answer 503 so that Alertmanager retries later. */
export class ControllerBusyError extends Error {
  readonly code = 'CONTROLLER_BUSY';
}

/**
 * Turns Alertmanager notifications into restart requests, in two steps.
 * {@link accept} (the webhook, synchronous, one transaction) makes the decisions
 * that need no supervisor at once (resolved, not `action="restart"`, an alert
 * instance already acted on or already waiting) and queues the rest in the
 * durable inbox. A background drain then decides the queued alerts in order, a
 * batch per transaction: unknown target, open breaker, cooldown of the replica or global rate limit,
 * else it claims the alert instance and requests the restart. Each alert gets
 * exactly one recorded decision. The claim (fingerprint + startsAt) means a
 * resend, an Alertmanager HA peer or a controller restart cannot act twice; a
 * failed restart request gives the claim and the cooldown back and becomes
 * `failed`. Background failures are logged and counted, never thrown.
 */
export class RecoveryController {
  private readonly now: () => number;
  private readonly pending = new Set<Promise<void>>();
  /** Inbox id → performance.now() when its webhook arrived (for decision_ms). */
  private readonly receivedAt = new Map<number, number>();
  private readonly waiters = new Map<number, { resolve(d: AlertDecision): void; reject(e: Error): void }>();
  /** Decides the inbox in the background: batches of 50, 10 ms slices, retried after 1 s … 30 s on a failure. */
  private readonly drain: QueueDrain<QueuedAlert>;

  constructor(private readonly opts: RecoveryControllerOptions) {
    this.now = opts.now ?? Date.now;
    this.drain = new QueueDrain({
      next: (limit) => opts.store.inbox.next(limit),
      handle: (rows) => this.decideBatch(rows),
      onFailure: (err, rows, retryInMs) => this.failed(err, rows, retryInMs),
    });
  }

  /**
   * Takes a notification: records the decisions that need no supervisor and
   * queues the other alerts, all in one transaction, then decides the queue in
   * the background. `receivedAt` is when the webhook arrived (performance.now() ms).
   * @throws ControllerBusyError when the queue would pass {@link INBOX_LIMIT}
   * @throws when the state database fails (transient: answer 5xx so Alertmanager retries)
   */
  accept(payload: AlertmanagerPayload, receivedAt = performance.now()): { alerts: number; queued: number } {
    const out = this.intake(payload, receivedAt);
    return { alerts: out.length, queued: out.filter((x) => typeof x === 'number').length };
  }

  /** {@link accept}, then waits for the decision of every alert, in order (tools and tests). */
  async handle(payload: AlertmanagerPayload, receivedAt = performance.now()): Promise<AlertDecision[]> {
    const out = this.intake(payload, receivedAt);
    return Promise.all(out.map((x) => (typeof x === 'number' ? new Promise<AlertDecision>((resolve, reject) => this.waiters.set(x, { resolve, reject })) : x)));
  }

  /** Decides the alerts a previous run accepted and did not decide. Call once the supervisors can be asked. */
  resume(): void {
    this.drain.kick();
  }

  /** Stops deciding after the current alert; what is still queued stays in the inbox for the next start. */
  stop(): void {
    this.drain.stop();
    for (const w of this.waiters.values()) w.reject(new Error('the recovery controller stopped before deciding this alert; it is decided after the next start'));
    this.waiters.clear();
  }

  /** Recent decisions, newest first. */
  recent(limit?: number): AlertDecision[] {
    return this.opts.store.recent(limit);
  }

  /** Resolves when the queue is decided (or the drain gave up until its retry) and every restart request started so far has finished. */
  async idle(): Promise<void> {
    await this.drain.idle();
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private intake(payload: AlertmanagerPayload, receivedAt: number): (AlertDecision | number)[] {
    const { store, log } = this.opts;
    if (payload.truncatedAlerts > 0) {
      log.warn({ receiver: payload.receiver, truncated: payload.truncatedAlerts }, `Alertmanager left ${payload.truncatedAlerts} alert(s) out of a notification (max_alerts): they are decided when it notifies again`);
    }
    const waiting = store.inbox.size();
    if (waiting + payload.alerts.length > INBOX_LIMIT) {
      throw new ControllerBusyError(`${waiting} alerts are waiting to be decided and this notification has ${payload.alerts.length}, over the limit of ${INBOX_LIMIT}: retry later`);
    }
    const at = this.now();
    const out = store.atomically(() => payload.alerts.map((alert) => this.triage(alert, receivedAt, at)));
    for (const x of out) {
      if (typeof x === 'number') this.receivedAt.set(x, receivedAt);
      else this.report(x);
    }
    if (out.some((x) => typeof x === 'number')) this.drain.kick();
    return out;
  }

  /** A decision that needs no supervisor, or the inbox id of the queued alert. */
  private triage(alert: AlertmanagerAlert, receivedAt: number, at: number): AlertDecision | number {
    const { store } = this.opts;
    if (alert.status === 'resolved') return this.record(alert, receivedAt, 'skipped_resolved', 'the alert is resolved');
    const action = alert.labels.action;
    if (action !== 'restart') return this.record(alert, receivedAt, 'skipped_not_restart', `action="${action ?? ''}": only action="restart" alerts are acted on`);
    const key = alertKey(alert);
    if (store.isClaimed(key)) return this.record(alert, receivedAt, 'duplicate', `already acted on this alert instance (fingerprint ${alert.fingerprint}, startsAt ${alert.startsAt})`);
    return store.inbox.add(key, alert, at) ?? this.record(alert, receivedAt, 'duplicate', 'another delivery of this alert instance is already waiting to be decided');
  }

  /**
   * Decides a batch of queued alerts: asks the supervisor about each (in order),
   * then records every decision in one transaction, so a failure leaves the whole
   * batch queued. Restart requests go out after the commit.
   */
  private async decideBatch(rows: QueuedAlert[]): Promise<void> {
    const { store } = this.opts;
    const checks: (TargetCheck | undefined)[] = [];
    for (const row of rows) checks.push(store.isClaimed(row.key) ? undefined : await this.inspect(row.alert));
    const decided = store.atomically(() => rows.map((row, i) => this.settle(row, checks[i])));
    for (const [i, { decision, restart }] of decided.entries()) {
      const row = rows[i] as QueuedAlert;
      this.receivedAt.delete(row.id);
      this.report(decision, !restart);
      if (restart) this.act(decision, restart, row.key);
      this.waiters.get(row.id)?.resolve(decision);
      this.waiters.delete(row.id);
    }
  }

  private async inspect(alert: AlertmanagerAlert): Promise<TargetCheck> {
    try {
      return await this.opts.port.inspect(alert.labels);
    } catch (err) {
      return { kind: 'unavailable', target: alertTarget(alert.labels), reason: `could not inspect the target: ${(err as Error).message}`, supervisor: null };
    }
  }

  /** One queued alert's decision, inside the batch's transaction; `check` is undefined when it was claimed already. */
  private settle(row: QueuedAlert, check: TargetCheck | undefined): { decision: AlertDecision; restart?: OkTarget } {
    const { store, limiter } = this.opts;
    const { alert, key } = row;
    const receivedAt = this.receivedAt.get(row.id) ?? performance.now() - Math.max(0, this.now() - row.receivedAt);
    const done = (result: ControllerResult, reason: string) => {
      store.inbox.remove(row.id);
      return this.record(alert, receivedAt, result, reason, check);
    };
    if (!check || store.isClaimed(key)) return { decision: done('duplicate', `already acted on this alert instance (fingerprint ${alert.fingerprint}, startsAt ${alert.startsAt})`) };
    if (check.kind === 'unknown') return { decision: done('skipped_unknown_agent', check.reason) };
    if (check.kind === 'circuit_open') return { decision: done('skipped_circuit_open', check.reason) };
    if (check.kind === 'unavailable') return { decision: done('failed', check.reason) };
    const rate = limiter.tryAcquire(check, key);
    if (!rate.ok) return { decision: done('skipped_rate_limited', rate.reason) };
    if (!store.claim(key)) {
      limiter.release(key);
      return { decision: done('duplicate', 'another process sharing the state database acted on this alert instance') };
    }
    const cooling = rate.cooling.length ? ` (${coolingText(rate.cooling)}, within the ${limiter.cooldownMs / 1000} s cooldown)` : '';
    return { decision: done('acted', `restart requested for ${rate.slots.join(', ')}${cooling}`), restart: { ...check, slots: rate.slots } };
  }

  /** The drain could not go on (the state database failed): log and count; the alerts stay queued. */
  private failed(err: unknown, rows: QueuedAlert[], retryInMs: number | undefined): void {
    const message = err instanceof Error ? err.message : String(err);
    const first = rows[0]?.alert.labels;
    const name = first ? `${first.alertname ?? '(no alertname)'} on ${alertTarget(first) ?? '(no target)'}` : '';
    const what = rows.length === 0 ? 'the queued alerts' : rows.length === 1 ? `1 alert (${name})` : `${rows.length} alerts (the first: ${name})`;
    const when = retryInMs === undefined ? 'after the next start' : `in ${retryInMs / 1000} s`;
    this.opts.metrics?.action('restart', 'failed');
    this.opts.log.error({ err: message, alerts: rows.length, fingerprint: rows[0]?.alert.fingerprint }, `recovery controller: could not decide ${what}: ${message}. They stay queued and are tried again ${when}; check the state database (disk space, permissions)`);
    for (const [id, w] of this.waiters) w.reject(new Error(`deciding alert ${id} failed: ${message}`, { cause: err }));
    this.waiters.clear();
  }

  private act(decision: AlertDecision, target: OkTarget, key: string): void {
    const { store, limiter, metrics, log } = this.opts;
    const p = this.opts.port.restart(target, decision.alertname).then(
      () => metrics?.action('restart', 'acted'),
      (err: unknown) => {
        const reason = `restart request for ${target.slots.join(', ')} failed: ${(err as Error).message}`;
        try {
          store.atomically(() => {
            store.release(key);
            limiter.release(key);
            store.setResult(decision.id, 'failed', reason);
          });
        } catch (storeErr) {
          log.warn({ err: (storeErr as Error).message }, 'could not record a failed restart request');
        }
        metrics?.action('restart', 'failed');
        log.warn({ ...logFields(decision), result: 'failed', reason }, `alert ${decision.alertname}: ${reason}`);
      },
    );
    const tracked = p.catch(() => undefined).finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private record(alert: AlertmanagerAlert, receivedAt: number, result: ControllerResult, reason: string, check?: TargetCheck): AlertDecision {
    return this.opts.store.record({
      at: this.now(),
      alertname: alert.labels.alertname ?? '',
      fingerprint: alert.fingerprint,
      starts_at: alert.startsAt,
      status: alert.status,
      instance: alert.labels.instance ?? null,
      agent: alert.labels.agent ?? null,
      replica: alert.labels.replica ?? null,
      target: check?.target ?? alertTarget(alert.labels),
      supervisor: check?.supervisor ?? null,
      action: 'restart',
      result,
      reason,
      decision_ms: Math.round(Math.max(0, performance.now() - receivedAt) * 1000) / 1000,
    });
  }

  /** Logs and counts a recorded decision (after its transaction committed). An `acted` one is counted when its request finishes. */
  private report(d: AlertDecision, count = true): void {
    this.opts.metrics?.decisionSeconds(d.decision_ms / 1000);
    if (count) this.opts.metrics?.action('restart', d.result);
    this.opts.log.info({ ...logFields(d), result: d.result, reason: d.reason }, `alert ${d.alertname || '(no alertname)'} on ${d.target ?? '(no target)'}: ${d.result}`);
  }
}

function logFields(d: AlertDecision): Record<string, unknown> {
  return { alertname: d.alertname, fingerprint: d.fingerprint, starts_at: d.starts_at, agent: d.agent, replica: d.replica, instance: d.instance, supervisor: d.supervisor ?? undefined, decision_ms: d.decision_ms };
}
