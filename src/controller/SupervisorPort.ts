/** What the controller needs to know about one replica (the control API's `GET /api/v1/agents` rows). */
export interface ReplicaView {
  agent: string;
  replica: string;
  mode: 'service' | 'per_task';
  /** The replica's lifecycle state: running, backoff, circuit_open, failed, stopped, … */
  state: string;
  /** The breaker, when the supervisor can tell (in-process); a remote supervisor reports it through `state`. */
  breaker?: 'closed' | 'open' | 'half_open' | undefined;
}

/** The outcome of looking up an alert's target on its supervisor. */
export type TargetCheck =
  /** Restart these slots. `target` is the replica slot or agent name the alert named. */
  | { kind: 'ok'; target: string; slots: string[]; supervisor: string | null }
  /** Nothing restartable: no such agent, a per_task agent, or stopped on purpose. */
  | { kind: 'unknown'; target: string | null; reason: string; supervisor: string | null }
  /** Every matching replica has an open or half-open breaker (or gave up): leave it to the supervisor and a human. */
  | { kind: 'circuit_open'; target: string; reason: string; supervisor: string | null }
  /** The supervisor could not be asked (transient): the decision is `failed`. */
  | { kind: 'unavailable'; target: string | null; reason: string; supervisor: string | null };

export type OkTarget = Extract<TargetCheck, { kind: 'ok' }>;

/** A supervisor the controller acts on: in-process, or remote through its control API. */
export interface SupervisorPort {
  /** Finds the replicas an alert's labels (`instance`, `agent`, `replica`) name, and whether their breakers allow a restart. */
  inspect(labels: Readonly<Record<string, string>>): TargetCheck | Promise<TargetCheck>;
  /** Requests a restart of every slot of `target` with cause `{kind:'alert', alertname}`. Rejects when the request failed. */
  restart(target: OkTarget, alertname: string): Promise<void>;
}

const BLOCKED_STATES = new Set(['circuit_open', 'failed']);

/**
 * The replica or agent an alert's labels name, as every surface shows it: `agent`
 * and a numeric `replica` (the index the metrics export) give the slot (`qaa` and
 * `1`: `qaa-1`); else the `replica` label (a slot name), else the `agent` label.
 */
export function alertTarget(labels: Readonly<Record<string, string>>): string | null {
  const { replica, agent } = labels;
  if (replica && agent && /^\d+$/.test(replica)) return `${agent}-${replica}`;
  return replica || agent || null;
}

/**
 * Resolves an alert to replicas: `agent` and `replica` as the metrics export them
 * (`qaa` and the index `0`: slot `qaa-0`), or a `replica` label that is a slot name
 * (`qaa-0`), else every replica of the `agent` label. Replicas whose breaker is open
 * or half-open, or that gave up, are left alone: a half-open trial must not be
 * interrupted, and an open breaker is a human's call.
 */
export function resolveTarget(rows: readonly ReplicaView[], labels: Readonly<Record<string, string>>, supervisor: string | null): TargetCheck {
  const { replica, agent } = labels;
  let target = alertTarget(labels);
  let matched: ReplicaView[];
  if (target === null) return { kind: 'unknown', target: null, reason: 'the alert has neither an `agent` nor a `replica` label', supervisor };
  if (replica && agent && /^\d+$/.test(replica)) {
    // The exported form: agent="qaa", replica="1" (the index) names slot qaa-1. A
    // per_task agent's index is a concurrency slot, not a process to restart.
    const slot = target;
    matched = rows.filter((r) => r.replica === slot || (r.agent === agent && r.mode === 'per_task'));
    if (matched.some((r) => r.mode === 'per_task')) target = agent;
  } else if (replica) {
    matched = rows.filter((r) => r.replica === replica);
  } else {
    matched = rows.filter((r) => r.agent === agent);
  }
  if (!matched.length) return { kind: 'unknown', target, reason: `no agent or replica named ${target} on this supervisor`, supervisor };
  const service = matched.filter((r) => r.mode === 'service');
  if (!service.length) return { kind: 'unknown', target, reason: `${target} runs one process per task: there is no long-running process to restart`, supervisor };
  const blocked = service.filter((r) => BLOCKED_STATES.has(r.state) || (r.breaker !== undefined && r.breaker !== 'closed'));
  const stopped = service.filter((r) => r.state === 'stopped');
  const slots = service.filter((r) => !blocked.includes(r) && !stopped.includes(r)).map((r) => r.replica);
  if (slots.length) return { kind: 'ok', target, slots, supervisor };
  if (blocked.length) {
    const what = blocked.map((r) => `${r.replica} ${r.breaker && r.breaker !== 'closed' ? `breaker ${r.breaker}` : r.state}`).join(', ');
    return { kind: 'circuit_open', target, reason: `circuit breaker not closed (${what}): the supervisor's breaker decides, run \`background reset\` after fixing the cause`, supervisor };
  }
  return { kind: 'unknown', target, reason: `${stopped.map((r) => r.replica).join(', ')} stopped on purpose: an alert does not start it`, supervisor };
}
