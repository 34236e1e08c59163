import type { SupervisorEvents } from '../../supervisor/Supervisor.js';
import { counter, stateGauge, type AnyRegistry, type MetricGroup } from './define.js';
import type { SlotMap } from './slots.js';
import type { SupervisorView } from './source.js';

export const ESCALATION_REASONS = ['restarts_exhausted', 'circuit_open'] as const;

/**
 * The supervisor rows of the System table: the overall verdict (pushed by the
 * health layer), replicas configured and up per role (read at scrape time) and
 * escalations (the supervisor's `escalation` events).
 */
export class SystemMetrics implements MetricGroup {
  private health: 0 | 1 | 2 = 0;
  private readonly onEscalation: (...e: SupervisorEvents['escalation']) => void;
  private readonly seedEscalations: () => void;

  constructor(register: AnyRegistry, private readonly sup: SupervisorView, slots: SlotMap) {
    stateGauge(register, 'agentic_system_health', 'Overall verdict of the supervisor: 0 healthy, 1 degraded, 2 unhealthy.', [], (emit) => emit({}, this.health));
    const perRole = (count: (s: ReturnType<SlotMap['all']>[number]) => boolean) => (emit: (l: { role: string }, v: number) => void) => {
      const n = new Map<string, number>(sup.roles.map((r) => [r, 0]));
      for (const s of slots.all()) n.set(s.labels.role, (n.get(s.labels.role) ?? 0) + (count(s) ? 1 : 0));
      for (const [role, v] of n) emit({ role }, v);
    };
    stateGauge(register, 'agentic_agents_configured', 'Replicas configured for the role (a per_task agent counts max_concurrent).', ['role'], perRole(() => true));
    stateGauge(register, 'agentic_agents_up', 'Replicas of the role whose process is running.', ['role'],
      perRole((s) => s.state === 'starting' || s.state === 'running' || s.state === 'stopping'));

    const escalations = counter(register, 'agentic_escalations_total', 'Escalations to a person: restart attempts exhausted or circuit breaker opened.', ['agent', 'role', 'reason']);
    this.seedEscalations = () => {
      for (const r of sup.replicas) for (const reason of ESCALATION_REASONS) escalations.inc({ agent: r.config.name, role: r.role, reason }, 0);
    };
    this.onEscalation = (e) => escalations.inc({ agent: e.agent, role: e.role, reason: e.reason });
    sup.on('escalation', this.onEscalation);
  }

  setHealth(v: 0 | 1 | 2): void {
    this.health = v;
  }

  seed(): void {
    this.seedEscalations();
  }

  close(): void {
    this.sup.off('escalation', this.onEscalation);
  }
}
