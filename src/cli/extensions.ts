import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Logger } from '../telemetry/logger.js';
import type { LogStore } from '../telemetry/LogStore.js';
import type { StateDir } from '../supervisor/StateDir.js';
import type { Supervisor } from '../supervisor/Supervisor.js';
import { wireController } from './wire/controller.js';
import { wireEscalation } from './wire/escalation.js';
import { wireHealth } from './wire/health.js';
import { wireLogs } from './wire/logs.js';
import { wireMetrics } from './wire/metrics.js';
import { wireRuns } from './wire/runs.js';

export interface ExtensionContext {
  sup: Supervisor;
  app: FastifyInstance;
  config: Readonly<Config>;
  dir: StateDir;
  log: Logger;
  logStore: LogStore;
}

/** A layer wired onto the supervisor; returns how to shut it down. */
export type Wiring = (ctx: ExtensionContext) => Promise<(() => Promise<void> | void) | void>;

/**
 * Wires the layers (metrics, health checks, logs API, recovery controller, run traces) onto a
 * supervisor and its server, in order. Each lives in its own file under wire/.
 */
export async function extendSupervisor(ctx: ExtensionContext): Promise<{ close(): Promise<void> }> {
  const closers: (() => Promise<void> | void)[] = [];
  for (const wire of [wireMetrics, wireHealth, wireLogs, wireController, wireEscalation, wireRuns]) {
    const close = await wire(ctx);
    if (close) closers.push(close);
  }
  return {
    async close() {
      for (const c of closers.reverse()) await c();
    },
  };
}
