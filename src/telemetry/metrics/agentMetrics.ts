import { Histogram } from 'prom-client';
import { REPLICA_STATES } from '../../supervisor/ReplicaState.js';
import type { SupervisorEvents } from '../../supervisor/Supervisor.js';
import { counter, labelOf, stateGauge, totalsCounter, type AnyRegistry, type Labels, type MetricGroup } from './define.js';
import type { Slot, SlotMap } from './slots.js';
import type { ReplicaView, SupervisorView } from './source.js';

const SLOT = ['agent', 'role', 'replica'] as const;
/** Reasons a replica restart is counted under (Replica.restarts keys). */
export const RESTART_REASONS = ['crash', 'unhealthy', 'manual', 'alert'] as const;
/** Ping → pong buckets, seconds. */
export const RESPONSE_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

/**
 * The Agents table of docs/metrics.md, except the health-check gauges
 * (healthMetrics.ts). Gauges are read from the supervisor at scrape time; restarts
 * from each replica's exact counts; task errors, protocol errors and ping round
 * trips from the supervisor's events.
 */
export function registerAgentMetrics(register: AnyRegistry, sup: SupervisorView, slots: SlotMap): MetricGroup & { protocolError(agent: string, reason: string): void } {
  const each = (fn: (s: Slot) => void) => { for (const s of slots.all()) fn(s); };
  const up = (state: string) => state === 'starting' || state === 'running' || state === 'stopping';
  const stateLabel = labelOf('state');
  const reasonLabel = labelOf('reason');
  const info = new Map<string, Labels>(); // mode + sdk → frozen labels

  stateGauge(register, 'agentic_agent_up', 'Whether the replica process is running (starting, running or stopping): 1 or 0.', SLOT, (emit) =>
    each((s) => emit(s.labels, up(s.state) ? 1 : 0)));
  stateGauge(register, 'agentic_agent_state', 'Lifecycle state of the replica: 1 for the current state, 0 for the others.', [...SLOT, 'state'], (emit) =>
    each((s) => { for (const st of REPLICA_STATES) emit(s.labels, st === s.state ? 1 : 0, stateLabel(st)); }));
  stateGauge(register, 'agentic_agent_busy', 'Whether the replica holds a task: 1 or 0.', SLOT, (emit) => each((s) => emit(s.labels, s.busy ? 1 : 0)));
  stateGauge(register, 'agentic_agent_info', 'Descriptive labels of the replica; always 1.', [...SLOT, 'mode', 'sdk'], (emit) =>
    each((s) => {
      const sdk = s.replica?.sdk ?? 'none';
      const key = `${s.mode} ${sdk}`;
      let l = info.get(key);
      if (!l) info.set(key, (l = Object.freeze({ mode: s.mode, sdk })));
      emit(s.labels, 1, l);
    }));
  stateGauge(register, 'agentic_agent_start_time_seconds', 'Unix time the current process of the replica started.', SLOT, (emit) =>
    each((s) => { if (s.startedAt !== undefined && up(s.state)) emit(s.labels, s.startedAt / 1000); }));
  stateGauge(register, 'agentic_agent_cpu_usage_ratio', 'CPU of the replica process tree; 1.0 is one core.', SLOT, (emit) =>
    each((s) => { const smp = sup.sampler.get(s.pid); if (smp) emit(s.labels, smp.cpuPercent / 100); }));
  stateGauge(register, 'agentic_agent_resident_memory_bytes', 'Resident memory of the replica process tree.', SLOT, (emit) =>
    each((s) => { const smp = sup.sampler.get(s.pid); if (smp) emit(s.labels, smp.rssBytes); }));
  stateGauge(register, 'agentic_agent_heap_used_bytes', 'V8 heap used, as reported by the Node SDK.', SLOT, (emit) =>
    each((s) => { if (s.replica?.heapUsedBytes !== undefined && up(s.state)) emit(s.labels, s.replica.heapUsedBytes); }));
  stateGauge(register, 'agentic_agent_last_heartbeat_timestamp_seconds', 'Unix time of the last protocol heartbeat of the replica.', SLOT, (emit) =>
    each((s) => { if (s.replica?.lastHeartbeatAt !== undefined && up(s.state)) emit(s.labels, s.replica.lastHeartbeatAt / 1000); }));

  totalsCounter(register, 'agentic_agent_restarts_total', 'Restarts of the replica by reason.', [...SLOT, 'reason'], (emit) =>
    each((s) => {
      const counts = s.replica?.restarts ?? {};
      for (const reason of RESTART_REASONS) emit(s.labels, counts[reason] ?? 0, reasonLabel(reason));
      for (const reason in counts) if (!(RESTART_REASONS as readonly string[]).includes(reason)) emit(s.labels, counts[reason] ?? 0, reasonLabel(reason));
    }));

  const taskErrors = counter(register, 'agentic_agent_task_errors_total', 'Tasks that failed on this agent (retried or dead-lettered).', ['agent', 'role']);
  const protocolErrors = counter(register, 'agentic_protocol_errors_total', 'Malformed, unknown or oversized protocol lines from the agent.', ['agent', 'reason']);
  const response = new Histogram({ name: 'agentic_agent_response_seconds', help: 'Ping to pong round trip of the replica.', labelNames: SLOT, buckets: RESPONSE_BUCKETS, registers: [register] });


  const lastRtt = new WeakMap<ReplicaView, number>();
  const onFinished = (...[e]: SupervisorEvents['taskFinished']) => {
    if (e.agent && (e.outcome === 'failed' || e.outcome === 'dead_lettered')) taskErrors.inc({ agent: e.agent, role: e.role });
  };
  const onProtocolError = (...[e]: SupervisorEvents['protocolError']) => protocolErrors.inc({ agent: e.agent, reason: e.reason });
  const onMessage = (...[e]: SupervisorEvents['message']) => {
    if (e.message.type !== 'pong') return;
    const r = slots.replica(e.slot);
    // A pong that arrives after its ping timed out leaves lastPongRttMs unchanged: not a new round trip.
    if (!r || r.lastPongRttMs === undefined || lastRtt.get(r) === r.lastPongRttMs) return;
    lastRtt.set(r, r.lastPongRttMs);
    response.observe(slots.labelsOf(r), r.lastPongRttMs / 1000);
  };
  sup.on('taskFinished', onFinished);
  sup.on('protocolError', onProtocolError);
  sup.on('message', onMessage);
  return {
    /** Counts a protocol error found after decoding (e.g. a refused custom metric, see customMetrics.ts). */
    protocolError: (agent, reason) => protocolErrors.inc({ agent, reason }),
    seed() {
      for (const a of [...sup.replicas, ...sup.perTask]) taskErrors.inc({ agent: a.config.name, role: a.role }, 0);
    },
    close() {
      sup.off('taskFinished', onFinished);
      sup.off('protocolError', onProtocolError);
      sup.off('message', onMessage);
    },
  };
}
