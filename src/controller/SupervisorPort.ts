/** What the controller needs to know about one replica (the control API's `GET /api/v1/agents` rows). */
export interface ReplicaView {
  agent: string;
  replica: string;
  mode: 'service' | 'per_task';
  /** The replica's lifecycle state: running, backoff, circuit_open, failed, stopped, … */
  state: string;
  /** The breaker, when the supervisor can tell (in-process); a remote supervisor reports it through `state`. */
  breaker?: 'closed' | 'open' | 'half_open' | undefined;
  /** per_task: the slot ids of its running runs (`deva_ts-0`); a restart of one ends that run. */
  concurrency?: { replicas?: string[] | undefined } | undefined;
}

/** The outcome of looking up an alert's target on its supervisor. */
export type TargetCheck =
  /** Restart these slots. `target` is the replica slot or agent name the alert named. */
  | { kind: 'ok'; target: string; slots: string[]; supervisor: string | null }
  /** Nothing restartable: no such agent, a per_task slot with no run, or stopped on purpose. */
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
 * interrupted, and an open breaker is a human's call. A per_task agent's slot
 * (`deva_ts-1`) is restarted by ending the run in it (its task goes back to the
 * queue); a slot with no run has nothing to restart.
 */
export function resolveTarget(rows: readonly ReplicaView[], labels: Readonly<Record<string, string>>, supervisor: string | null): TargetCheck {
  const { replica, agent } = labels;
  const perTask = resolvePerTask(rows, labels, supervisor);
  if (perTask) return perTask;
  const target = alertTarget(labels);
  let matched: ReplicaView[];
  if (target === null) return { kind: 'unknown', target: null, reason: 'the alert has neither an `agent` nor a `replica` label', supervisor };
  if (replica && agent && /^\d+$/.test(replica)) {
    // The exported form: agent="qaa", replica="1" (the index) names slot qaa-1.
    matched = rows.filter((r) => r.replica === target);
  } else if (replica) {
    matched = rows.filter((r) => r.replica === replica);
  } else {
    matched = rows.filter((r) => r.agent === agent);
  }
  if (!matched.length) return { kind: 'unknown', target, reason: `no agent or replica named ${target} on this supervisor`, supervisor };
  const service = matched.filter((r) => r.mode === 'service');
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

/**
 * The per_task part of {@link resolveTarget}: an alert naming a per_task agent (and
 * maybe its slot index, or a slot id `deva_ts-1`) restarts the runs in those slots.
 * Undefined when the labels name no per_task agent.
 */
function resolvePerTask(rows: readonly ReplicaView[], labels: Readonly<Record<string, string>>, supervisor: string | null): TargetCheck | undefined {
  const { replica, agent } = labels;
  const row = rows.find((r) => r.mode === 'per_task' && (r.agent === agent || (replica !== undefined && replica.startsWith(`${r.agent}-`) && /^\d+$/.test(replica.slice(r.agent.length + 1)))));
  if (!row) return undefined;
  const running = row.concurrency?.replicas ?? [];
  const slot = replica && /^\d+$/.test(replica) ? `${row.agent}-${replica}` : replica && replica !== row.agent ? replica : undefined;
  if (slot === undefined) {
    if (running.length) return { kind: 'ok', target: row.agent, slots: [row.agent], supervisor };
    return { kind: 'unknown', target: row.agent, reason: `${row.agent} runs one process per task and none is running: nothing to restart`, supervisor };
  }
  if (running.includes(slot)) return { kind: 'ok', target: slot, slots: [slot], supervisor };
  return { kind: 'unknown', target: slot, reason: `no run in ${slot} now: the supervisor already ended it (task_timeout, stale_task_threshold) or it finished; nothing to restart`, supervisor };
}
