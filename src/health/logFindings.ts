import type { LedgerChange } from './FindingLedger.js';
import { labelOf, type Target } from './Target.js';

type LogFn = (obj: object, msg: string) => void;
/** The part of the supervisor's pino logger the health layer uses. */
export interface HealthLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/**
 * Writes the changes of one scope (a target, or the system when `t` is
 * undefined) to the structured log: a new or changed finding at warn (degraded)
 * or error (unhealthy) with its check, value, threshold and diagnosis; a
 * resolved one at info.
 */
export function logFindings(log: HealthLogger | undefined, t: Target | undefined, change: LedgerChange): void {
  if (!log) return;
  const who = t ? { agent: t.agent, role: t.role, replica: t.id, task_id: t.task?.id } : { agent: 'system' };
  for (const f of change.raised) {
    const fields = {
      ...who, health_check: f.check, finding: f.kind, severity: f.severity, value: f.value, threshold: f.threshold, unit: f.unit,
      since: new Date(f.since).toISOString(), diagnosis: f.diagnosis, dependency: f.dependency, subject: f.subject,
    };
    log[f.severity === 'unhealthy' ? 'error' : 'warn'](fields, `health ${f.severity}: ${f.message}`);
  }
  for (const f of change.resolved) {
    log.info({ ...who, health_check: f.check, finding: f.kind }, `health recovered: ${t ? labelOf(t) : 'system'}: ${f.check} ${f.kind}${f.dependency ? ` (${f.dependency})` : ''} is resolved`);
  }
}
