import type { HealthChecker } from './HealthChecker.js';

const bySupervisor = new WeakMap<object, HealthChecker>();

/** Makes `checker` the one {@link healthOf} returns for `sup`. Called by the health wiring. */
export function attachHealth(sup: object, checker: HealthChecker): void {
  bySupervisor.set(sup, checker);
}

export function detachHealth(sup: object): void {
  bySupervisor.delete(sup);
}

/**
 * The HealthChecker wired onto a supervisor, for layers that act on findings
 * (recovery, alerting, the live monitor):
 *
 * ```ts
 * healthOf(ctx.sup)?.on('finding', ({ target, finding }) => { … });
 * ```
 *
 * Undefined when health checks are not wired. Wired after metrics and before
 * the logs, controller and escalation layers (src/cli/extensions.ts).
 */
export function healthOf(sup: object): HealthChecker | undefined {
  return bySupervisor.get(sup);
}
