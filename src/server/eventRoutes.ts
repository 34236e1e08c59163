import type { FastifyInstance } from 'fastify';
import type { Supervisor } from '../supervisor/Supervisor.js';
import { routeAuth } from './routeAuth.js';

/** One stored event as GET /api/v1/events returns it. */
export interface EventView {
  id: number;
  at: string;
  /** The agent's name (`qaa`); null for the supervisor's own events. */
  agent: string | null;
  /** The replica (`qaa-1`) the event is about, when it is about one. */
  replica: string | null;
  kind: string;
  detail: unknown;
}

/** `qaa-1` → `qaa` when that is a configured agent; otherwise the name itself. */
function agentOf(sup: Supervisor, subject: string): string {
  const m = /^(.*)-\d+$/.exec(subject);
  if (m && sup.bg.agents.some((a) => a.name === m[1])) return m[1] as string;
  return subject;
}

/**
 * GET /api/v1/events?limit=50&kind=escalation,budget_exceeded: the durable event
 * history (exits, escalations, health verdict changes, supervisor starts), newest
 * first; `kind` (comma-separated, at most 10) keeps only those kinds. The monitor
 * fills its "Recent events" from it on start, so the history survives monitor and
 * supervisor restarts; the web dashboard's Alerts view reads the escalations.
 */
export function registerEventRoutes(app: FastifyInstance, sup: Supervisor): void {
  app.get<{ Querystring: { limit?: string; kind?: string } }>('/api/v1/events', {
    ...routeAuth('api'),
    schema: {
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { limit: { type: 'string', pattern: '^[0-9]{1,4}$' }, kind: { type: 'string', pattern: '^[a-z_]{1,40}(,[a-z_]{1,40}){0,9}$' } },
      },
    },
  }, async (req) => {
    const limit = Math.min(1000, Math.max(1, Number(req.query.limit ?? 50)));
    const stored = req.query.kind ? sup.events.recentOf(req.query.kind.split(','), limit) : sup.events.recent(limit);
    const events: EventView[] = stored.map((e) => {
      const agent = e.agent === null ? null : agentOf(sup, e.agent);
      return { id: e.id, at: new Date(e.at).toISOString(), agent, replica: agent !== e.agent ? e.agent : null, kind: e.kind, detail: e.detail };
    });
    return { events };
  });
}
