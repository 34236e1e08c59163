import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type ConfigProblem } from './ConfigError.js';
import { crossChecks } from './crossChecks.js';
import { decodeConfigText } from './decodeConfigText.js';
import { describeValue } from './fields.js';
import { kindAt } from './introspect.js';
import { toProblems } from './problems.js';
import { readYaml } from './readYaml.js';
import { configSchema, type Config } from './schema.js';

export { toProblems } from './problems.js';

/** Overrides from flags or the environment; applied over the file, before validation. */
export interface ConfigOverrides {
  /** `--state-dir` / `AGENTIC_STATE_DIR` → `background.state_dir`. */
  stateDir?: string;
  /** `--host` / `AGENTIC_HOST` → `background.server.host`. */
  host?: string;
  /** `--port` / `AGENTIC_PORT` → `background.server.port`; a string of digits becomes a number. */
  port?: number | string;
  /** `--log-level` / `AGENTIC_LOG_LEVEL` → `background.logging.level`. */
  logLevel?: string;
}

/** Environment variables that override the file (flags override these). */
export const ENV_OVERRIDES = {
  AGENTIC_STATE_DIR: 'stateDir',
  AGENTIC_HOST: 'host',
  AGENTIC_PORT: 'port',
  AGENTIC_LOG_LEVEL: 'logLevel',
} as const satisfies Record<string, keyof ConfigOverrides>;

/** The key each override sets, and where it can come from (for error messages). */
const OVERRIDE_TARGETS: Record<keyof ConfigOverrides, { path: string; flag: string }> = {
  stateDir: { path: 'background.state_dir', flag: '--state-dir' },
  host: { path: 'background.server.host', flag: '--host' },
  port: { path: 'background.server.port', flag: '--port' },
  logLevel: { path: 'background.logging.level', flag: '--log-level' },
};

/** Reads the AGENTIC_* overrides from an environment; empty variables are ignored. */
export function overridesFromEnv(env: NodeJS.ProcessEnv): ConfigOverrides {
  const out: ConfigOverrides = {};
  for (const [name, key] of Object.entries(ENV_OVERRIDES)) {
    const v = env[name];
    if (v !== undefined && v !== '') (out as Record<string, string>)[key] = v;
  }
  return out;
}

type Raw = Record<string, unknown>;
const isMapping = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An empty section (`monitoring:` with every child commented out) is YAML null: treat it as absent. */
function dropEmptySections(node: unknown, at: PropertyKey[]): void {
  if (Array.isArray(node)) node.forEach((item, i) => dropEmptySections(item, [...at, i]));
  else if (isMapping(node)) {
    for (const [k, v] of Object.entries(node)) {
      if (v === null && kindAt(configSchema, [...at, k]) !== 'other') delete node[k];
      else dropEmptySections(v, [...at, k]);
    }
  }
}

function section(parent: Raw, key: string): Raw | undefined {
  parent[key] ??= {};
  return isMapping(parent[key]) ? parent[key] : undefined;
}

function applyOverrides(raw: Raw, o: ConfigOverrides): void {
  const bg = section(raw, 'background');
  if (!bg) return; // `background` is not a mapping: the schema reports it.
  if (o.stateDir !== undefined) bg.state_dir = o.stateDir;
  if (o.host !== undefined || o.port !== undefined) {
    const server = section(bg, 'server');
    if (server && o.host !== undefined) server.host = o.host;
    if (server && o.port !== undefined) server.port = typeof o.port === 'string' && /^\s*\d+\s*$/.test(o.port) ? Number(o.port) : o.port;
  }
  if (o.logLevel !== undefined) {
    const logging = section(bg, 'logging');
    if (logging) logging.level = o.logLevel;
  }
}

/** Says where an overridden value came from, since it is not in the file. */
function attributeOverrides(problems: ConfigProblem[], o: ConfigOverrides): ConfigProblem[] {
  return problems.map((p) => {
    for (const [key, t] of Object.entries(OVERRIDE_TARGETS)) {
      if (p.path === t.path && o[key as keyof ConfigOverrides] !== undefined) {
        const env = Object.keys(ENV_OVERRIDES).find((n) => ENV_OVERRIDES[n as keyof typeof ENV_OVERRIDES] === key);
        return { path: p.path, message: `${p.message} (set by ${t.flag} or ${env}, which override the file)` };
      }
    }
    return p;
  });
}

/**
 * Validates a parsed YAML/JSON value into a deeply frozen, typed config, after
 * applying overrides (flags and environment over the file; defaults fill the rest).
 * `background.state_dir` is resolved against the working directory; an agent
 * without `role` gets its name as role; top-level keys starting with `x-` are ignored.
 * @throws ConfigError listing every problem.
 */
export function parseConfig(raw: unknown, overrides: ConfigOverrides = {}, file?: string): Readonly<Config> {
  const input: unknown = raw === null || raw === undefined ? {} : raw;
  if (!isMapping(input)) {
    throw new ConfigError([{ path: '(root)', message: `expected a mapping with a top-level "background:" key, got ${describeValue(input)}` }], file);
  }
  const copy = structuredClone(input);
  // Top-level `x-…` keys are ignored: they hold YAML anchors (`x-agent: &agent …`), as in Compose files.
  for (const k of Object.keys(copy)) if (k.startsWith('x-')) delete copy[k];
  dropEmptySections(copy, []);
  applyOverrides(copy, overrides);
  const result = configSchema.safeParse(copy);
  const problems = [...(result.success ? [] : toProblems(result.error, copy)), ...crossChecks(copy)];
  if (!result.success || problems.length) throw new ConfigError(attributeOverrides(problems, overrides), file);
  const cfg = structuredClone(result.data);
  cfg.background.state_dir = path.resolve(cfg.background.state_dir);
  for (const agent of cfg.background.agents) agent.role ??= agent.name;
  return deepFreeze(cfg);
}

/**
 * Reads a YAML config file, applies overrides (flags > environment > file > defaults)
 * and validates it.
 * @throws ConfigError when the file is missing or unreadable, is not YAML text (binary data),
 *   is not valid YAML, or does not validate.
 */
export function loadConfig(file: string, overrides: ConfigOverrides = {}): Readonly<Config> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const abs = path.resolve(file);
    const message =
      code === 'ENOENT' ? `config file not found: ${abs}; check the path given to --config`
      : code === 'EISDIR' ? `expected a YAML file, got a directory: ${abs}`
      : `cannot read ${abs}: ${(err as Error).message}`;
    throw new ConfigError([{ path: '(file)', message }], file, { cause: err });
  }
  const decoded = decodeConfigText(bytes);
  if ('problem' in decoded) throw new ConfigError([decoded.problem], file);
  const text = decoded.text;
  let parsed: ReturnType<typeof readYaml>;
  try {
    parsed = readYaml(text);
  } catch (err) {
    throw new ConfigError([{ path: '(yaml)', message: `invalid YAML: ${(err as Error).message}` }], file, { cause: err });
  }
  if (parsed.problems.length) throw new ConfigError(parsed.problems, file);
  return parseConfig(parsed.value, overrides, file);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
