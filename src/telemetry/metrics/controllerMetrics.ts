import { Histogram } from 'prom-client';
import { type AnyRegistry, counter } from './define.js';

export type ControllerAction = 'restart';
export const CONTROLLER_RESULTS = [
  'acted', 'duplicate', 'skipped_circuit_open', 'skipped_rate_limited', 'skipped_not_restart', 'skipped_resolved', 'skipped_unknown_agent', 'failed',
] as const;
export type ControllerResult = (typeof CONTROLLER_RESULTS)[number];
/** Webhook received → decision made, seconds. */
export const DECISION_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * The Recovery controller table of docs/metrics.md. Needs no supervisor, so a
 * controller running as its own process (`background controller`) can use it on a
 * registry of its own.
 */
export class ControllerMetrics {
  private readonly actions;
  private readonly requests;
  private readonly decision;

  constructor(register: AnyRegistry) {
    this.actions = counter(register, 'agentic_controller_actions_total', 'Recovery controller decisions on alert notifications, by action and result.', ['action', 'result']);
    this.requests = counter(register, 'agentic_controller_webhook_requests_total', 'Alert webhook requests by HTTP status code.', ['code']);
    this.decision = new Histogram({ name: 'agentic_controller_decision_seconds', help: 'Time from webhook received to decision made.', buckets: DECISION_BUCKETS, registers: [register] });
    for (const result of CONTROLLER_RESULTS) this.actions.inc({ action: 'restart', result }, 0);
  }

  /** Counts one decision. @throws RangeError for a result not in the catalog. */
  action(action: ControllerAction, result: ControllerResult): void {
    if (!(CONTROLLER_RESULTS as readonly string[]).includes(result)) throw new RangeError(`Expected a controller result (${CONTROLLER_RESULTS.join(', ')}), got \`${String(result)}\``);
    this.actions.inc({ action, result });
  }

  /** Counts one webhook request by its HTTP status code (100–599). */
  webhookRequest(code: number): void {
    if (!Number.isInteger(code) || code < 100 || code > 599) throw new RangeError(`Expected an HTTP status code (100-599), got \`${String(code)}\``);
    this.requests.inc({ code: String(code) });
  }

  /** Records the time from webhook received to decision made, in seconds. */
  decisionSeconds(seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) throw new RangeError(`Expected a non-negative duration in seconds, got \`${String(seconds)}\``);
    this.decision.observe(seconds);
  }
}
