import type { FastifyInstance } from 'fastify';
import { DuplicateTaskError, QueueFullError, type TaskStatus } from '../queue/Task.js';
import type { ExitCause } from '../recovery/RestartPolicy.js';
import { AgentControlError, TaskLimitsError, UnknownAgentError, UnknownRoleError } from '../supervisor/errors.js';
import { ArgvTooLongError } from '../supervisor/spawnLimits.js';
import { agentStatuses, lastProgressSeconds } from '../supervisor/statusSnapshot.js';
import type { Supervisor } from '../supervisor/Supervisor.js';
import { sendError } from './createServer.js';
import { registerEventRoutes } from './eventRoutes.js';
import { routeAuth } from './routeAuth.js';
import { statusBody } from './statusBody.js';
import { registerTaskLogRoute } from './taskLogRoute.js';

const TASK_ID = '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$';

const submitSchema = {
  body: {
    type: 'object',
    additionalProperties: false,
    required: ['role', 'title'],
    properties: {
      role: { type: 'string', minLength: 1, maxLength: 64 },
      title: { type: 'string', minLength: 1, maxLength: 500 },
      // Bounded by server.body_limit_bytes; a prompt too long for a per_task argv is refused below (ArgvTooLongError).
      prompt: { type: 'string', maxLength: 64 * 1024 * 1024 },
      payload: {},
      priority: { type: 'integer', minimum: 1, maximum: 10 },
      id: { type: 'string', pattern: TASK_ID },
      // The task's own run limits, overriding its agent's (the bounds of the agent keys in the config).
      max_turns: { type: 'integer', minimum: 1, maximum: 100_000 },
      max_cost_usd: { type: 'number', minimum: 0.0001, maximum: 1_000_000 },
    },
  },
} as const;

const listSchema = {
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      status: { type: 'string', enum: ['pending', 'in_progress', 'completed', 'failed', 'cancelled'] },
      role: { type: 'string', maxLength: 64 },
      correlation_id: { type: 'string', pattern: '^[0-9a-f]{32}$' },
      limit: { type: 'string', pattern: '^[0-9]{1,5}$' },
    },
  },
} as const;

export interface RouteDeps {
  sup: Supervisor;
  onShutdown: () => void;
  version: string;
}

/** /healthz, /readyz and the control API (/api/v1/*). */
export function registerRoutes(app: FastifyInstance, { sup, onShutdown, version }: RouteDeps): void {
  app.get('/healthz', routeAuth('public'), async () => ({ status: 'ok', pid: process.pid, uptime_seconds: Math.round((Date.now() - sup.startedAt) / 1000), version }));
  app.get('/readyz', routeAuth('public'), async (_req, reply) => (sup.ready ? { ready: true } : reply.code(503).send({ ready: false, reason: 'starting or stopping' })));

  app.get('/api/v1/agents', routeAuth('api'), async () => ({ agents: agentStatuses(sup) }));

  // Optional body: {} or none for a manual restart; {reason:'alert', alertname} from the recovery controller.
  app.post<{ Params: { name: string }; Body: { reason?: unknown; alertname?: unknown } | undefined }>('/api/v1/agents/:name/restart', routeAuth('api'), async (req, reply) => {
    const body = req.body ?? {};
    if (typeof body !== 'object' || Array.isArray(body)) return sendError(reply, 400, 'bad_request', 'the body must be a JSON object: {} or {"reason":"alert","alertname":"…"}');
    const extra = Object.keys(body).filter((k) => k !== 'reason' && k !== 'alertname');
    if (extra.length) return sendError(reply, 400, 'bad_request', `unknown key(s) ${extra.join(', ')}: expected reason and alertname`);
    const { reason = 'manual', alertname } = body;
    if (reason !== 'manual' && reason !== 'alert') return sendError(reply, 400, 'bad_request', `reason must be "manual" or "alert", got ${JSON.stringify(reason)}`);
    if (reason === 'alert' && (typeof alertname !== 'string' || !alertname || alertname.length > 200)) return sendError(reply, 400, 'bad_request', 'reason "alert" needs an alertname (1-200 characters)');
    const cause: ExitCause = reason === 'alert' ? { kind: 'alert', alertname: alertname as string } : { kind: 'manual' };
    // A per_task agent or slot: the runs it ends (their tasks go back to the queue).
    const runs = sup.perTaskRunsFor(req.params.name);
    // Answer promptly; the restart goes on. A failure after the answer is logged,
    // never left as an unhandled rejection (which would end the supervisor).
    const restarting = sup.restart(req.params.name, cause);
    restarting.catch((err: unknown) => {
      if (!(err instanceof UnknownAgentError) && !(err instanceof AgentControlError)) sup.log.error({ agent: req.params.name, err: (err as Error).message }, `restart of ${req.params.name} failed`);
    });
    if (runs && (req.query as { wait?: string }).wait === '1') {
      // `?wait=1` (the CLI): answer once the runs have ended, with where their tasks are now.
      const replicas = await restarting;
      return reply.code(200).send({ agent: req.params.name, accepted: true, replicas, runs: await Promise.all(runs.map(async (r) => ({ ...r, status: (await sup.queue.get(r.task_id))?.status ?? null }))) });
    }
    try {
      let timer: NodeJS.Timeout | undefined;
      const slots = await Promise.race([restarting, new Promise<string[]>((r) => { timer = setTimeout(() => r([]), 50); })]).finally(() => clearTimeout(timer));
      // A restart still stopping its replicas after 50 ms has not said which: they are the agent's (or the one named).
      const replicas = runs ? runs.map((r) => r.replica) : slots.length ? slots : agentStatuses(sup).filter((a) => a.agent === req.params.name || a.replica === req.params.name).map((a) => a.replica);
      return reply.code(202).send({ agent: req.params.name, accepted: true, replicas, ...(runs ? { runs } : {}) });
    } catch (err) {
      if (err instanceof UnknownAgentError) return sendError(reply, 404, 'unknown_agent', err.message);
      if (err instanceof AgentControlError) return sendError(reply, 409, err.reason, err.message);
      throw err;
    }
  });

  app.post<{ Params: { name: string } }>('/api/v1/agents/:name/reset', routeAuth('api'), async (req, reply) => {
    try {
      return { agent: req.params.name, replicas: sup.reset(req.params.name) };
    } catch (err) {
      if (err instanceof UnknownAgentError) return sendError(reply, 404, 'unknown_agent', err.message);
      throw err;
    }
  });

  app.post<{ Body: { role: string; title: string; prompt?: string; payload?: unknown; priority?: number; id?: string; max_turns?: number; max_cost_usd?: number } }>(
    '/api/v1/tasks',
    { ...routeAuth('api'), schema: submitSchema },
    async (req, reply) => {
      try {
        const task = await sup.submit(req.body);
        return reply.code(201).send({ task });
      } catch (err) {
        if (err instanceof UnknownRoleError) return sendError(reply, 400, 'unknown_role', err.message);
        if (err instanceof ArgvTooLongError) return sendError(reply, 400, 'argv_too_long', err.message);
        if (err instanceof TaskLimitsError) return sendError(reply, 400, 'limits_unenforceable', err.message);
        if (err instanceof DuplicateTaskError) return sendError(reply, 409, 'duplicate_task', err.message);
        if (err instanceof QueueFullError) return reply.header('retry-after', '30').code(429).send({ error: 'queue_full', reason: err.message });
        throw err;
      }
    },
  );

  app.get<{ Querystring: { status?: TaskStatus; role?: string; correlation_id?: string; limit?: string } }>('/api/v1/tasks', { ...routeAuth('api'), schema: listSchema }, async (req) => ({
    tasks: (await sup.queue.withHistories(await sup.queue.list({ status: req.query.status, role: req.query.role, correlationId: req.query.correlation_id, limit: req.query.limit ? Number(req.query.limit) : 100 })))
      .map((t) => ({ ...t, last_progress_seconds: lastProgressSeconds(sup, t) })),
  }));

  app.get<{ Params: { id: string } }>('/api/v1/tasks/:id', routeAuth('api'), async (req, reply) => {
    const task = await sup.queue.get(req.params.id);
    return task ? { task: { ...(await sup.queue.withHistory(task)), last_progress_seconds: lastProgressSeconds(sup, task) } } : sendError(reply, 404, 'unknown_task', `no task ${req.params.id}`);
  });

  app.post<{ Params: { id: string } }>('/api/v1/tasks/:id/cancel', routeAuth('api'), async (req, reply) => {
    const task = await sup.queue.get(req.params.id);
    if (!task) return sendError(reply, 404, 'unknown_task', `no task ${req.params.id}`);
    const ok = await sup.cancel(task.id);
    return ok ? { cancelled: true, task: await sup.queue.get(task.id) } : sendError(reply, 409, 'not_cancellable', `task ${task.id} is ${task.status}`);
  });

  app.get('/api/v1/status', routeAuth('api'), async () => statusBody(sup, version));

  registerEventRoutes(app, sup);
  registerTaskLogRoute(app, sup);

  app.post('/api/v1/shutdown', routeAuth('api'), async (_req, reply) => {
    setImmediate(onShutdown);
    return reply.code(202).send({ stopping: true, pid: process.pid });
  });
}
