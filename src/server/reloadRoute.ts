import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../config/ConfigError.js';
import type { Config } from '../config/schema.js';
import type { ReloadResult } from '../supervisor/FleetReload.js';
import { AgentControlError, ReloadRefusedError } from '../supervisor/errors.js';
import type { Supervisor } from '../supervisor/Supervisor.js';
import { routeAuth } from './routeAuth.js';

/** Where a reload reads its config: the file the supervisor runs (the last one applied), loaded as at start (same flag and environment overrides). */
export interface ConfigSource {
  /** Absolute path; undefined when the supervisor was given a config object, not a file. */
  file: string | undefined;
  load(file: string): Readonly<Config>;
}

const reloadSchema = {
  body: {
    anyOf: [
      { type: 'null' },
      { type: 'object', additionalProperties: false, properties: { config_file: { type: 'string', minLength: 1, maxLength: 4096 } } },
    ],
  },
} as const;

/** The outcome of one reload, for the route and for SIGHUP. */
export type ReloadOutcome =
  | { ok: true; result: ReloadResult }
  | { ok: false; status: number; body: { error: string; reason: string; problems?: readonly { path: string; message: string }[]; keys?: readonly { key: string; reason: string }[] } };

/**
 * Loads `file` (default: the source's) and applies it to the fleet. A config the loader
 * refuses, and one that changes a setting that cannot change live, leave the fleet
 * untouched. On success the file becomes the source's (the next SIGHUP reads it).
 */
export async function reloadFrom(sup: Supervisor, source: ConfigSource, file?: string): Promise<ReloadOutcome> {
  const target = file ?? source.file;
  if (!target) return { ok: false, status: 400, body: { error: 'no_config_file', reason: 'This supervisor was not started from a config file: name one (background reload --config <file>)' } };
  if (!path.isAbsolute(target)) return { ok: false, status: 400, body: { error: 'bad_request', reason: `Expected config_file to be an absolute path, got ${JSON.stringify(target)}` } };
  try {
    const next = source.load(target);
    const result = await sup.reload(next, target);
    source.file = target;
    return { ok: true, result };
  } catch (err) {
    if (err instanceof ConfigError) return { ok: false, status: 400, body: { error: 'invalid_config', reason: err.message, problems: err.problems } };
    if (err instanceof ReloadRefusedError) return { ok: false, status: 409, body: { error: err.reason, reason: err.message, keys: err.keys } };
    if (err instanceof AgentControlError) return { ok: false, status: 409, body: { error: err.reason, reason: err.message } };
    throw err;
  }
}

/**
 * POST /api/v1/reload (API token), body `{}` or `{"config_file": "/abs/path.yaml"}`:
 * applies a changed config to the running fleet (see FleetReload) and answers, once
 * removed and restarted agents have stopped, with a {@link ReloadResult}.
 * 400 `invalid_config` (the loader's message, and `problems`: key and what was expected
 * and found), 400 `no_config_file` / `bad_request`, 409 `not_reloadable` (`keys`: the
 * settings that cannot change live, each with why), 409 `not_running`.
 */
export function registerReloadRoute(app: FastifyInstance, sup: Supervisor, source: ConfigSource): void {
  app.post<{ Body: { config_file?: string } | null | undefined }>('/api/v1/reload', { ...routeAuth('api'), schema: reloadSchema }, async (req, reply) => {
    const out = await reloadFrom(sup, source, req.body?.config_file);
    if (out.ok) return out.result;
    return reply.code(out.status).type('application/json').send(out.body);
  });
}
