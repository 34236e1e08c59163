import type { ControllerResult } from '../telemetry/metrics/controllerMetrics.js';
import { alertKey, type AlertmanagerAlert, type AlertmanagerPayload } from './alertmanagerPayload.js';
import type { AlertDecision, DecisionStore } from './DecisionStore.js';
import type { RestartRateLimiter } from './RestartRateLimiter.js';
import type { OkTarget, SupervisorPort, TargetCheck } from './SupervisorPort.js';

/** The metrics the controller reports (`ControllerMetrics` of src/telemetry/metrics). */
export interface ControllerMetricsSink {
  action(action: 'restart', result: ControllerResult): void;
  decisionSeconds(seconds: number): void;
}

type LogFn = (obj: Record<string, unknown>, msg: string) => void;
export interface ControllerLog { info: LogFn; warn: LogFn }

export interface RecoveryControllerOptions {
  store: DecisionStore;
  limiter: RestartRateLimiter;
  port: SupervisorPort;
  log: ControllerLog;
  metrics?: ControllerMetricsSink | undefined;
  /** Wall clock for decision timestamps, epoch ms. Default Date.now. */
  now?: (() => number) | undefined;
}

const cooldownKey = (supervisor: string | null, target: string) => `${supervisor ?? ''}|${target}`;

/**
 * Turns Alertmanager notifications into restart requests. Each alert gets exactly
 * one recorded decision: skipped (resolved, not `action="restart"`, unknown
 * target, open breaker, rate limit), duplicate (its fingerprint + startsAt was
 * already acted on) or acted. Acting claims the alert instance in the store first,
 * so a resend, an Alertmanager HA peer or a controller restart cannot act twice.
 * The restart itself runs in the background; if it fails the claim is released so
 * a resend can try again, and the decision becomes `failed`.
 */
export class RecoveryController {
  private readonly now: () => number;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly opts: RecoveryControllerOptions) {
    this.now = opts.now ?? Date.now;
    for (const { supervisor, target, at } of opts.store.lastActed()) opts.limiter.remember(cooldownKey(supervisor, target), at);
  }

  /**
   * Decides on every alert of a notification, in order. `receivedAt` is when the
   * webhook arrived (performance.now() ms), for the decision latency.
   * @throws when the decision store fails (a transient failure: answer 5xx so Alertmanager retries)
   */
  async handle(payload: AlertmanagerPayload, receivedAt = performance.now()): Promise<AlertDecision[]> {
    if (payload.truncatedAlerts > 0) {
      this.opts.log.warn({ receiver: payload.receiver, truncated: payload.truncatedAlerts }, `Alertmanager left ${payload.truncatedAlerts} alert(s) out of a notification (max_alerts): they are decided when it notifies again`);
    }
    const out: AlertDecision[] = [];
    for (const alert of payload.alerts) out.push(await this.decide(alert, receivedAt));
    return out;
  }

  /** Recent decisions, newest first. */
  recent(limit?: number): AlertDecision[] {
    return this.opts.store.recent(limit);
  }

  /** Resolves when every restart request started so far has finished. */
  async idle(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private async decide(alert: AlertmanagerAlert, receivedAt: number): Promise<AlertDecision> {
    const { store, limiter } = this.opts;
    const key = alertKey(alert);
    if (alert.status === 'resolved') return this.record(alert, receivedAt, 'skipped_resolved', 'the alert is resolved');
    const action = alert.labels.action;
    if (action !== 'restart') return this.record(alert, receivedAt, 'skipped_not_restart', `action="${action ?? ''}": only action="restart" alerts are acted on`);
    if (store.isClaimed(key)) return this.record(alert, receivedAt, 'duplicate', `already acted on this alert instance (fingerprint ${alert.fingerprint}, startsAt ${alert.startsAt})`);

    let check: TargetCheck;
    try {
      check = await this.opts.port.inspect(alert.labels);
    } catch (err) {
      check = { kind: 'unavailable', target: null, reason: `could not inspect the target: ${(err as Error).message}`, supervisor: null };
    }
    if (check.kind === 'unknown') return this.record(alert, receivedAt, 'skipped_unknown_agent', check.reason, check);
    if (check.kind === 'circuit_open') return this.record(alert, receivedAt, 'skipped_circuit_open', check.reason, check);
    if (check.kind === 'unavailable') return this.record(alert, receivedAt, 'failed', check.reason, check);

    // From here to the claim nothing awaits, so no other delivery can interleave.
    if (store.isClaimed(key)) return this.record(alert, receivedAt, 'duplicate', 'another delivery of this alert instance acted on it meanwhile', check);
    const rate = limiter.tryAcquire(cooldownKey(check.supervisor, check.target));
    if (!rate.ok) return this.record(alert, receivedAt, 'skipped_rate_limited', rate.reason, check);
    if (!store.claim(key)) return this.record(alert, receivedAt, 'duplicate', 'another process sharing the state database acted on this alert instance', check);
    const decision = this.record(alert, receivedAt, 'acted', `restart requested for ${check.slots.join(', ')}`, check, false);
    this.act(decision, check, key);
    return decision;
  }

  private act(decision: AlertDecision, target: OkTarget, key: string): void {
    const p = this.opts.port.restart(target, decision.alertname).then(
      () => this.opts.metrics?.action('restart', 'acted'),
      (err: unknown) => {
        const reason = `restart request for ${target.target} failed: ${(err as Error).message}`;
        try {
          this.opts.store.release(key);
          this.opts.store.setResult(decision.id, 'failed', reason);
        } catch (storeErr) {
          this.opts.log.warn({ err: (storeErr as Error).message }, 'could not record a failed restart request');
        }
        this.opts.metrics?.action('restart', 'failed');
        this.opts.log.warn({ ...logFields(decision), result: 'failed', reason }, `alert ${decision.alertname}: ${reason}`);
      },
    );
    const tracked = p.finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  private record(alert: AlertmanagerAlert, receivedAt: number, result: ControllerResult, reason: string, check?: TargetCheck, count = true): AlertDecision {
    const decisionMs = performance.now() - receivedAt;
    const d = this.opts.store.record({
      at: this.now(),
      alertname: alert.labels.alertname ?? '',
      fingerprint: alert.fingerprint,
      starts_at: alert.startsAt,
      status: alert.status,
      instance: alert.labels.instance ?? null,
      agent: alert.labels.agent ?? null,
      replica: alert.labels.replica ?? null,
      target: check?.target ?? alert.labels.replica ?? alert.labels.agent ?? null,
      supervisor: check?.supervisor ?? null,
      action: 'restart',
      result,
      reason,
      decision_ms: Math.round(decisionMs * 1000) / 1000,
    });
    this.opts.metrics?.decisionSeconds(Math.max(0, decisionMs) / 1000);
    if (count) this.opts.metrics?.action('restart', result);
    this.opts.log.info({ ...logFields(d), result, reason }, `alert ${d.alertname || '(no alertname)'} on ${d.target ?? '(no target)'}: ${result}`);
    return d;
  }
}

function logFields(d: AlertDecision): Record<string, unknown> {
  return { alertname: d.alertname, fingerprint: d.fingerprint, starts_at: d.starts_at, agent: d.agent, replica: d.replica, instance: d.instance, supervisor: d.supervisor ?? undefined, decision_ms: d.decision_ms };
}
