import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Logger } from '../telemetry/logger.js';
import type { LogStore } from '../telemetry/LogStore.js';
import type { StateDir } from '../supervisor/StateDir.js';
import type { Supervisor } from '../supervisor/Supervisor.js';

export interface ExtensionContext {
  sup: Supervisor;
  app: FastifyInstance;
  config: Readonly<Config>;
  dir: StateDir;
  log: Logger;
  logStore: LogStore;
}

/**
 * Wires the optional layers (metrics, health checks, recovery controller) onto a
 * supervisor and its server. Each returns a close function.
 */
export async function extendSupervisor(ctx: ExtensionContext): Promise<{ close(): Promise<void> }> {
  const closers: (() => Promise<void> | void)[] = [];
  ctx.app.get('/metrics', async (_req, reply) => reply.code(503).send({ error: 'unavailable', reason: 'metrics are not enabled in this build' }));
  return {
    async close() {
      for (const c of closers.reverse()) await c();
    },
  };
}
