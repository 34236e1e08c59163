import os from 'node:os';
import type { FastifyInstance } from 'fastify';
import { parseSince } from '../telemetry/logFilter.js';
import { fleetCounts } from '../supervisor/fleetCounts.js';
import { agentStatuses } from '../supervisor/statusSnapshot.js';
import type { Supervisor } from '../supervisor/Supervisor.js';
import { sendError } from './createServer.js';
import { routeAuth } from './routeAuth.js';
import type { LlmReport } from '../store/llmReport.js';

/** Most stories `GET /api/v1/llm?stories=N` lists. */
export const MAX_REPORT_STORIES = 1000;

/**
 * GET /api/v1/llm?window=7d&stories=10: where the LLM money went (per_task runs, from
 * the run ledger): by role, by day, the `stories` most expensive stories (default 10,
 * at most 1000), and the share of retries and of runs that did not complete. Behind
 * `background metrics --llm`.
 */
export function registerLlmReportRoute(app: FastifyInstance, report: (since: number, until: number, stories: number) => LlmReport): void {
  app.get<{ Querystring: { window?: string; stories?: string } }>('/api/v1/llm', {
    ...routeAuth('api'),
    schema: {
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { window: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?[smhd]$' }, stories: { type: 'string', pattern: '^[0-9]{1,4}$' } },
      },
    },
  }, async (req, reply) => {
    const now = Date.now();
    const since = parseSince(req.query.window ?? '7d', now);
    if (since === undefined) return sendError(reply, 400, 'bad_request', 'window: expected a duration like 1h or 7d');
    const stories = req.query.stories === undefined ? 10 : Number(req.query.stories);
    if (stories < 1 || stories > MAX_REPORT_STORIES) return sendError(reply, 400, 'bad_request', `stories: expected a number of stories from 1 to ${MAX_REPORT_STORIES}, got ${req.query.stories}`);
    return report(since, now + 1, stories);
  });
}

/** GET /api/v1/stats?window=15m: the performance statistics behind `background metrics`. */
export function registerStatsRoute(app: FastifyInstance, sup: Supervisor): void {
  app.get<{ Querystring: { window?: string } }>('/api/v1/stats', {
    ...routeAuth('api'),
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { window: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?[smhd]$' } } } },
  }, async (req, reply) => {
    const now = Date.now();
    const since = parseSince(req.query.window ?? '15m', now);
    if (since === undefined) return sendError(reply, 400, 'bad_request', 'window: expected a duration like 15m');
    const agents = agentStatuses(sup, now);
    const load = os.loadavg();
    return {
      window_seconds: Math.round((now - since) / 1000),
      roles: await sup.queue.performance(since, now),
      fleet: fleetCounts(sup),
      agents: agents.map((a) => ({ agent: a.agent, replica: a.replica, state: a.state, cpu_percent: a.cpu_percent, rss_bytes: a.rss_bytes, restarts: a.restarts, restarts_by_reason: a.restarts_by_reason })),
      system: {
        agents_cpu_percent: agents.reduce((s, a) => s + (a.cpu_percent ?? 0), 0),
        agents_rss_bytes: agents.reduce((s, a) => s + (a.rss_bytes ?? 0), 0),
        restarts: agents.reduce((s, a) => s + a.restarts, 0),
        host_load_1m: load[0],
        host_cpus: os.availableParallelism(),
        host_memory_used_bytes: os.totalmem() - os.freemem(),
        host_memory_total_bytes: os.totalmem(),
      },
    };
  });
}
