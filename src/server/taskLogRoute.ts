import type { FastifyInstance } from 'fastify';
import { StateDir } from '../supervisor/StateDir.js';
import type { Supervisor } from '../supervisor/Supervisor.js';
import { LEVEL_NAMES, levelNumber, recordMessage, recordWho } from '../telemetry/logFilter.js';
import { readLogLinesAsync } from '../telemetry/logRead.js';
import { StreamJsonContext, streamJsonParts, type StreamJsonPart } from '../telemetry/streamJsonLine.js';
import { sendError } from './createServer.js';
import { routeAuth } from './routeAuth.js';

/** Lines GET /api/v1/tasks/:id/logs returns without `limit`, and the most it returns. */
export const TASK_LOG_LINES = { default: 500, max: 5000 } as const;

/** One line of a task's log, as GET /api/v1/tasks/:id/logs returns it. */
export interface TaskLogLine {
  /** Epoch ms; null when the record has none. */
  time: number | null;
  level: string;
  /** The replica, agent or stream that wrote it (the column `background logs` prints). */
  who: string;
  /** The message `background logs` prints (a stream-json event as one readable line). */
  msg: string;
  /** A claude stream-json event (a per_task run's stdout) in pieces, for a transcript; absent for other lines. */
  parts?: StreamJsonPart[];
}

const schema = {
  params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 200 } } },
  querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'string', pattern: '^[0-9]{1,5}$' } } },
} as const;

/**
 * GET /api/v1/tasks/:id/logs?limit=500: the lines of the central log store whose
 * correlation id is the task's (what `background logs --correlation-id <id>` prints),
 * oldest first, the last `limit` of them (default 500, at most 5000). `total` counts
 * every matching line. 404 `unknown_task`; 400 for a bad limit.
 */
export function registerTaskLogRoute(app: FastifyInstance, sup: Supervisor): void {
  app.get<{ Params: { id: string }; Querystring: { limit?: string } }>('/api/v1/tasks/:id/logs', { ...routeAuth('api'), schema }, async (req, reply) => {
    const limit = req.query.limit === undefined ? TASK_LOG_LINES.default : Number(req.query.limit);
    if (limit < 1 || limit > TASK_LOG_LINES.max) return sendError(reply, 400, 'bad_request', `limit: expected a number of lines from 1 to ${TASK_LOG_LINES.max}, got ${req.query.limit}`);
    const task = await sup.queue.get(req.params.id);
    if (!task) return sendError(reply, 404, 'unknown_task', `no task ${req.params.id}`);
    // Rotated files last written before the task was created cannot hold its lines (a second of slack for the file system's clock).
    const all = await readLogLinesAsync(new StateDir(sup.stateDirRoot).logDir, undefined, { traceId: task.correlation_id }, task.created_at - 1000);
    // The context sees every line in order (a session's cwd), even those cut off by `limit`.
    const ctx = new StreamJsonContext();
    const lines: TaskLogLine[] = [];
    all.forEach((l, i) => {
      const parts = typeof l.rec.msg === 'string' ? undefined : streamJsonParts(l.rec, ctx);
      if (i < all.length - limit) return;
      lines.push({
        time: typeof l.rec.time === 'number' ? l.rec.time : null,
        level: LEVEL_NAMES[levelNumber(l.rec.level)] ?? 'INFO',
        who: recordWho(l.rec, l.stream),
        msg: recordMessage(l.rec, ctx),
        ...(parts ? { parts } : {}),
      });
    });
    return { task_id: task.id, correlation_id: task.correlation_id, total: all.length, lines };
  });
}
