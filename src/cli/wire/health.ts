import { HealthChecker } from '../../health/HealthChecker.js';
import { attachHealth, detachHealth } from '../../health/healthOf.js';
import { healthReport } from '../../health/report.js';
import { SystemResources } from '../../health/systemResources.js';
import { CHECK_NAMES } from '../../health/types.js';
import { llmHoldFindings } from '../../health/llmHolds.js';
import { sendError } from '../../server/createServer.js';
import { routeAuth } from '../../server/routeAuth.js';
import { metricsOf } from '../../telemetry/metrics/metricsOf.js';
import type { Wiring } from '../extensions.js';

const querySchema = {
  querystring: { type: 'object', additionalProperties: false, properties: { agent: { type: 'string', minLength: 1, maxLength: 200 } } },
} as const;

/**
 * The health layer: a HealthChecker over the supervisor's replicas and per_task
 * processes (findings go to the log and to `healthOf(sup)` listeners), verdicts
 * pushed to /metrics after every round, unhealthy replicas restarted through the
 * restart policy when `recovery.restart_unhealthy`, and GET /api/v1/health[?agent=X].
 */
export const wireHealth: Wiring = async ({ sup, app, config, dir, log }) => {
  const bg = config.background;
  const m = bg.monitoring;
  const checker = new HealthChecker({
    bg,
    source: sup,
    logger: log.child({ component: 'health' }),
    checks: m.enabled ? undefined : [],
    system: new SystemResources([dir.root, dir.logDir], m.health_checks.resource_usage.max_disk_percent, sup.disk),
    systemFindings: (now) => llmHoldFindings(sup, now),
    restart: m.recovery.restart_unhealthy ? (t, f, when) => sup.restart(t.id, { kind: 'unhealthy', finding: f.message }, { afterTask: when === 'after_task' }) : undefined,
  });
  attachHealth(sup, checker);

  // Verdict changes go to the durable event history (GET /api/v1/events, the monitor's
  // "Recent events"), with the finding that caused them: raised just before the change.
  const lastRaised = new Map<string, { check: string; message: string }>();
  checker.on('finding', ({ target, finding }) => { if (target) lastRaised.set(target.id, { check: finding.check, message: finding.message }); });
  checker.on('verdict', ({ target, verdict, previous }) => {
    const f = verdict === 'healthy' ? undefined : lastRaised.get(target.id);
    sup.events?.record(target.id, 'finding', { verdict, previous, check: f?.check ?? null, message: verdict === 'healthy' ? 'healthy again' : `${verdict}${f ? `: ${f.message}` : ''}` });
  });

  // After a round, the verdicts of that check (every check after a system recomputation: shared outages move findings).
  checker.on('evaluated', (what) => {
    const metrics = metricsOf(sup);
    if (!metrics) return;
    const names = what === 'system' || what === 'connectivity' ? CHECK_NAMES : [what];
    for (const h of checker.targets()) {
      for (const name of names) {
        const r = h.checks[name];
        metrics.setHealth(h.target.id, name, r && r.status !== 'skipped' ? r.status : 'healthy');
      }
      const growth = h.checks.memory_leaks?.measurements?.growth_bytes_per_second;
      if (growth !== undefined && names.includes('memory_leaks')) metrics.setMemoryGrowth(h.target.id, growth);
    }
    metrics.setSystemHealth(checker.system().verdict);
  });

  app.get<{ Querystring: { agent?: string } }>('/api/v1/health', { ...routeAuth('api'), schema: querySchema }, async (req, reply) => {
    const body = healthReport(checker, sup, req.query.agent);
    if (body) return body;
    const names = [...sup.bg.agents.map((a) => a.name), ...sup.replicas.map((r) => r.slot)];
    return sendError(reply, 404, 'unknown_agent', `no agent or replica named ${req.query.agent}; known: ${names.join(', ')}`);
  });

  checker.start();
  return async () => {
    await checker.stop();
    detachHealth(sup);
  };
};
