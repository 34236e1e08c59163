import { circuitGaugeValue } from '../../recovery/CircuitBreaker.js';
import { labelOf, stateGauge, type AnyRegistry } from './define.js';
import type { SlotMap } from './slots.js';
import type { SlotLabels, SupervisorView } from './source.js';

/** The checks `agentic_agent_health_status` reports, one series each per replica. */
export const HEALTH_CHECKS = ['agent_response', 'resource_usage', 'task_progress', 'memory_leaks', 'connectivity'] as const;
export type HealthCheckName = (typeof HEALTH_CHECKS)[number];
export type HealthVerdict = 'healthy' | 'degraded' | 'unhealthy';
/** 0 healthy, 1 degraded, 2 unhealthy (or the verdict's name). */
export type HealthLevel = 0 | 1 | 2 | HealthVerdict;
/** 0 closed, 1 half-open, 2 open. */
export type CircuitLevel = 0 | 1 | 2;

const VERDICTS: Record<HealthVerdict, 0 | 1 | 2> = { healthy: 0, degraded: 1, unhealthy: 2 };

/** The numeric gauge value of a health level. @throws RangeError for anything but 0, 1, 2 or a verdict name. */
export function healthValue(level: HealthLevel): 0 | 1 | 2 {
  if (typeof level === 'string' && level in VERDICTS) return VERDICTS[level];
  if (level === 0 || level === 1 || level === 2) return level;
  throw new RangeError(`Expected a health level of 0, 1, 2, "healthy", "degraded" or "unhealthy", got \`${String(level)}\` (${typeof level})`);
}

/**
 * Values the health and recovery layers push, by supervisor slot id (`qaa-0`, or
 * `<agent>:<task id>` for a per_task process). Every replica reports every check,
 * 0 by default; values of a per_task process vanish when it ends. Breaker state is
 * read from the restart policy when it can report it (`circuitState()`), else from
 * what `setCircuit` recorded, else 0.
 */
export class HealthValues {
  private readonly health = new Map<string, Map<HealthCheckName, 0 | 1 | 2>>();
  private readonly growth = new Map<string, number>();
  private readonly circuit = new Map<string, CircuitLevel>();

  constructor(register: AnyRegistry, private readonly sup: SupervisorView, private readonly slots: SlotMap) {
    const checkLabel = labelOf('check');
    stateGauge(register, 'agentic_agent_health_status', 'Verdict of one health check on the replica: 0 healthy, 1 degraded, 2 unhealthy.', ['agent', 'role', 'replica', 'check'], (emit) => {
      const pushed = this.byLabels(this.health);
      for (const s of this.slots.all()) {
        const mine = pushed.get(s.labels) ?? [];
        for (const check of HEALTH_CHECKS) emit(s.labels, Math.max(0, ...mine.map((m) => m.get(check) ?? 0)), checkLabel(check));
      }
    });
    stateGauge(register, 'agentic_agent_memory_growth_bytes_per_second', 'Robust RSS trend of the replica (Theil-Sen) over the leak window; 0 until warmed up.', ['agent', 'role', 'replica'], (emit) => {
      const pushed = this.byLabels(this.growth);
      for (const s of this.slots.all()) emit(s.labels, Math.max(...(pushed.get(s.labels) ?? [0])));
    });
    stateGauge(register, 'agentic_agent_circuit_state', 'Circuit breaker of the replica: 0 closed, 1 half-open, 2 open.', ['agent', 'role', 'replica'], (emit) => {
      const pushed = this.byLabels(this.circuit);
      const policy = this.sup.policy;
      for (const s of this.slots.all()) {
        const fromPolicy = s.mode === 'service' && s.id && typeof policy.circuitState === 'function' ? circuitGaugeValue(policy.circuitState(s.id)) : undefined;
        emit(s.labels, fromPolicy ?? Math.max(...(pushed.get(s.labels) ?? [0])));
      }
    });
  }

  setHealth(slot: string, check: HealthCheckName, level: HealthLevel): boolean {
    if (!(HEALTH_CHECKS as readonly string[]).includes(check)) throw new RangeError(`Expected a health check (${HEALTH_CHECKS.join(', ')}), got \`${String(check)}\``);
    const value = healthValue(level);
    if (!this.slots.resolve(slot)) return false;
    const checks = this.health.get(slot) ?? new Map<HealthCheckName, 0 | 1 | 2>();
    this.health.set(slot, checks.set(check, value));
    return true;
  }

  setGrowth(slot: string, bytesPerSecond: number): boolean {
    if (!Number.isFinite(bytesPerSecond)) throw new RangeError(`Expected a finite memory growth in bytes per second, got \`${String(bytesPerSecond)}\``);
    if (!this.slots.resolve(slot)) return false;
    this.growth.set(slot, bytesPerSecond);
    return true;
  }

  setCircuit(slot: string, level: CircuitLevel): boolean {
    if (level !== 0 && level !== 1 && level !== 2) throw new RangeError(`Expected a circuit state of 0 (closed), 1 (half-open) or 2 (open), got \`${String(level)}\``);
    if (!this.slots.resolve(slot)) return false;
    this.circuit.set(slot, level);
    return true;
  }

  /** Groups pushed values by current labels, dropping those of slots that are gone (finished per_task processes). */
  private byLabels<V>(values: Map<string, V>): Map<SlotLabels, V[]> {
    const out = new Map<SlotLabels, V[]>(); // by identity: a slot's labels object is the same from scrape to scrape
    for (const [slot, v] of values) {
      const labels = this.slots.resolve(slot);
      if (!labels) { values.delete(slot); continue; }
      out.set(labels, [...(out.get(labels) ?? []), v]);
    }
    return out;
  }
}
