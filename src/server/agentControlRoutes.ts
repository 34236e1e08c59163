import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ControlResult } from '../supervisor/AgentControl.js';
import { AgentControlError, UnknownAgentError } from '../supervisor/errors.js';
import type { Supervisor } from '../supervisor/Supervisor.js';
import { sendError } from './createServer.js';
import { routeAuth } from './routeAuth.js';

const stopSchema = {
  params: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 200 } } },
  body: {
    anyOf: [
      { type: 'null' },
      { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } } },
    ],
  },
} as const;

const startSchema = { params: stopSchema.params } as const;

const scaleSchema = {
  params: stopSchema.params,
  // The range (1 to MAX_REPLICAS) is checked by the supervisor, whose refusal says what to do instead.
  body: { type: 'object', additionalProperties: false, required: ['replicas'], properties: { replicas: { type: 'integer' } } },
} as const;

/** The answer body of stop and start: a {@link ControlResult} in the API's snake_case. */
export type ControlBody = Omit<ControlResult, 'stateChanged'> & { state_changed: boolean };

/** The answer body: what changed (`changed`: replicas stopped or started, runs ended), and whether the desired state did. */
export const controlBody = (r: ControlResult): ControlBody => ({
  action: r.action, target: r.target, agent: r.agent, mode: r.mode, changed: r.changed, unchanged: r.unchanged, state_changed: r.stateChanged,
});

function refused(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof UnknownAgentError) return sendError(reply, 404, 'unknown_agent', err.message);
  if (err instanceof AgentControlError) return sendError(reply, 400, err.reason, err.message);
  throw err;
}

/**
 * Per-agent stop and start (API token), idempotent: stopping a stopped agent or
 * starting a started one answers 200 with `state_changed: false` and nothing in `changed`.
 * - POST /api/v1/agents/:name/stop (body `{}` or `{"reason": "…"}`, optional): an agent
 *   or one replica (`qaa-1`); answers once its processes have ended (SIGTERM, SIGKILL
 *   after stop_timeout), their tasks back in the queue with no attempt used.
 * - POST /api/v1/agents/:name/start: starts what `stop` stopped.
 * - POST /api/v1/agents/:name/scale, body `{"replicas": n}`: a service agent to n
 *   replicas (1 to 1000), answered once the replicas removed have stopped:
 *   `{action: 'scale', target, agent, from, to, started, held, stopped, persisted}`.
 *   400 `per_task_scale` (a per_task agent: use max_concurrent), `not_an_agent` (a
 *   replica id), `bad_replicas` (out of range).
 * 404 `unknown_agent`; 400 `per_task_slot` for a slot of a per_task agent.
 */
export function registerAgentControlRoutes(app: FastifyInstance, sup: Supervisor): void {
  app.post<{ Params: { name: string }; Body: { reason?: string } | null | undefined }>('/api/v1/agents/:name/stop', { ...routeAuth('api'), schema: stopSchema }, async (req, reply) => {
    try {
      return controlBody(await sup.control.stop(req.params.name, req.body?.reason));
    } catch (err) {
      return refused(reply, err);
    }
  });

  app.post<{ Params: { name: string }; Body: { replicas: number } }>('/api/v1/agents/:name/scale', { ...routeAuth('api'), schema: scaleSchema }, async (req, reply) => {
    try {
      return await sup.control.scale(req.params.name, req.body.replicas);
    } catch (err) {
      return refused(reply, err);
    }
  });

  app.post<{ Params: { name: string } }>('/api/v1/agents/:name/start', { ...routeAuth('api'), schema: startSchema }, async (req, reply) => {
    try {
      return controlBody(sup.control.start(req.params.name));
    } catch (err) {
      return refused(reply, err);
    }
  });
}
