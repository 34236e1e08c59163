import type { CircuitBreakerState } from '../recovery/CircuitBreaker.js';
import type { Supervisor } from '../supervisor/Supervisor.js';
import type { InstanceIdentity } from './instanceIdentity.js';
import { alertTarget, resolveTarget, type OkTarget, type ReplicaView, type SupervisorPort, type TargetCheck } from './SupervisorPort.js';

/** How long a restart request waits for the supervisor to refuse it before counting it as accepted (ms). */
const ACCEPT_WAIT_MS = 50;

type WithBreaker = { circuitState(id: string): CircuitBreakerState };
const hasBreaker = (p: unknown): p is WithBreaker => typeof (p as Partial<WithBreaker>).circuitState === 'function';

/**
 * The supervisor the controller runs in (`POST /api/v1/alerts`): reads replica
 * states and breakers directly and restarts through `sup.restart(slot, {kind:'alert'})`.
 */
export class InProcessPort implements SupervisorPort {
  /** `identity` decides whether an alert's `instance` is this supervisor; without it every instance is. */
  constructor(private readonly sup: Supervisor, private readonly identity?: InstanceIdentity) {}

  async inspect(labels: Readonly<Record<string, string>>): Promise<TargetCheck> {
    if (this.sup.stopping) return { kind: 'unavailable', target: null, reason: 'the supervisor is stopping', supervisor: null };
    const { instance } = labels;
    if (instance && this.identity && !(await this.identity.isMine(instance))) {
      const target = alertTarget(labels);
      return { kind: 'unknown', target, reason: `instance ${instance} is not this supervisor (it answers to ${this.identity.describe()}): send that supervisor's alerts to its own /api/v1/alerts or to a standalone controller, or list this supervisor's instances in AGENTIC_CONTROLLER_INSTANCES`, supervisor: null };
    }
    const policy = this.sup.policy;
    const rows: ReplicaView[] = this.sup.replicas.map((r) => ({
      agent: r.config.name,
      replica: r.slot,
      mode: 'service',
      state: r.state.kind,
      breaker: hasBreaker(policy) ? policy.circuitState(r.slot).kind : undefined,
    }));
    for (const p of this.sup.perTask) rows.push({ agent: p.config.name, replica: p.config.name, mode: 'per_task', state: 'running', concurrency: { replicas: [...p.runs.values()].map((r) => r.slotId) } });
    return resolveTarget(rows, labels, null);
  }

  async restart(target: OkTarget, alertname: string): Promise<void> {
    const cause = { kind: 'alert', alertname } as const;
    const all = Promise.all(target.slots.map((slot) => this.sup.restart(slot, cause)));
    all.catch(() => undefined); // a failure after the wait is the supervisor's to log
    // A refusal (unknown agent) comes at once; the restart itself (stop, start) goes on.
    await Promise.race([all, new Promise((r) => setTimeout(r, ACCEPT_WAIT_MS).unref())]);
  }
}
