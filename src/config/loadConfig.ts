import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from './ConfigError.js';
import { didYouMean } from './didYouMean.js';
import { configSchema, type Config } from './schema.js';

/** Overrides from flags or the environment; applied over the file, before validation. */
export interface ConfigOverrides {
  stateDir?: string;
  host?: string;
  port?: number | string;
  logLevel?: string;
}

/** Environment variables that override the file (flags override these). */
export const ENV_OVERRIDES = {
  AGENTIC_STATE_DIR: 'stateDir',
  AGENTIC_HOST: 'host',
  AGENTIC_PORT: 'port',
  AGENTIC_LOG_LEVEL: 'logLevel',
} as const satisfies Record<string, keyof ConfigOverrides>;

export function overridesFromEnv(env: NodeJS.ProcessEnv): ConfigOverrides {
  const out: ConfigOverrides = {};
  for (const [name, key] of Object.entries(ENV_OVERRIDES)) {
    const v = env[name];
    if (v !== undefined && v !== '') (out as Record<string, string>)[key] = v;
  }
  return out;
}

const formatPath = (p: readonly PropertyKey[]): string =>
  p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');

/** Walks the schema along a path to find the keys an object there accepts (for "did you mean"). */
function keysAt(schema: z.ZodType, p: readonly PropertyKey[]): string[] {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let s: any = schema;
  const unwrap = () => {
    for (let i = 0; i < 10 && s?._zod?.def; i++) {
      const def = s._zod.def;
      if (def.innerType) s = def.innerType;
      else if (def.type === 'pipe') s = def.in;
      else break;
    }
  };
  for (const k of p) {
    unwrap();
    if (typeof k === 'number') s = s?._zod?.def?.element;
    else s = s?._zod?.def?.shape?.[k as string];
  }
  unwrap();
  return Object.keys(s?._zod?.def?.shape ?? {});
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return `${String(v)} (${typeof v})`;
}

function valueAt(root: unknown, p: readonly PropertyKey[]): unknown {
  let v: unknown = root;
  for (const k of p) v = v && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

/** Maps zod issues to problems that name the key, what was expected and what was found. */
export function toProblems(error: z.ZodError, raw: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = keysAt(configSchema, issue.path);
      for (const key of issue.keys) {
        const hint = didYouMean(key, known);
        problems.push({
          path: formatPath([...issue.path, key]),
          message: `unknown key${hint ? `; did you mean "${hint}"?` : ''} (expected one of: ${known.join(', ')})`,
        });
      }
    } else if (issue.code === 'invalid_type') {
      const found = valueAt(raw, issue.path);
      problems.push({ path: formatPath(issue.path), message: `expected ${issue.expected === 'object' ? 'a mapping' : issue.expected === 'array' ? 'a list' : `a ${issue.expected}`}, got ${describeValue(found)}` });
    } else {
      problems.push({ path: formatPath(issue.path), message: issue.message });
    }
  }
  return problems;
}

function applyOverrides(raw: Record<string, unknown>, o: ConfigOverrides): void {
  const bg = (raw.background ??= {}) as Record<string, unknown>;
  if (typeof bg !== 'object' || bg === null || Array.isArray(bg)) return;
  if (o.stateDir !== undefined) bg.state_dir = o.stateDir;
  if (o.host !== undefined || o.port !== undefined) {
    const server = (bg.server ??= {}) as Record<string, unknown>;
    if (o.host !== undefined) server.host = o.host;
    if (o.port !== undefined) server.port = typeof o.port === 'string' && /^\d+$/.test(o.port) ? Number(o.port) : o.port;
  }
  if (o.logLevel !== undefined) {
    const logging = (bg.logging ??= {}) as Record<string, unknown>;
    logging.level = o.logLevel;
  }
}

function crossChecks(cfg: Config): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Map<string, number>();
  cfg.background.agents.forEach((a, i) => {
    const prev = seen.get(a.name);
    if (prev !== undefined) problems.push({ path: `background.agents[${i}].name`, message: `expected a unique agent name, got "${a.name}" again (first at background.agents[${prev}])` });
    seen.set(a.name, i);
    if (a.mode === 'per_task' && a.replicas !== 1) problems.push({ path: `background.agents[${i}].replicas`, message: `expected no replicas for a per_task agent (use max_concurrent), got ${a.replicas}` });
  });
  const r = cfg.background.monitoring.recovery;
  if (r.max_delay < r.base_delay) problems.push({ path: 'background.monitoring.recovery.max_delay', message: `expected at least base_delay (${r.base_delay}s), got ${r.max_delay}s` });
  return problems;
}

/**
 * Validates a parsed YAML/JSON value into a frozen, typed config.
 * @throws ConfigError listing every problem.
 */
export function parseConfig(raw: unknown, overrides: ConfigOverrides = {}, file?: string): Readonly<Config> {
  const input: unknown = raw === null || raw === undefined ? {} : raw;
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ConfigError([{ path: '(root)', message: `expected a mapping with a top-level "background:" key, got ${describeValue(input)}` }], file);
  }
  const copy = structuredClone(input) as Record<string, unknown>;
  applyOverrides(copy, overrides);
  const result = configSchema.safeParse(copy);
  if (!result.success) throw new ConfigError(toProblems(result.error, copy), file);
  const cross = crossChecks(result.data);
  if (cross.length) throw new ConfigError(cross, file);
  const cfg = result.data;
  if (file && !path.isAbsolute(cfg.background.state_dir)) {
    // state_dir is relative to the working directory, as documented.
    cfg.background.state_dir = path.resolve(cfg.background.state_dir);
  }
  return deepFreeze(cfg);
}

/**
 * Reads a YAML config file, applies overrides (flags > environment > file > defaults)
 * and validates it.
 * @throws ConfigError when the file is missing, is not YAML, or does not validate.
 */
export function loadConfig(file: string, overrides: ConfigOverrides = {}): Readonly<Config> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError([{ path: '(file)', message: code === 'ENOENT' ? `config file not found: ${file}` : `cannot read ${file}: ${(err as Error).message}` }], file, { cause: err });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(
      doc.errors.map((e) => ({ path: e.linePos ? `(line ${e.linePos[0].line}, column ${e.linePos[0].col})` : '(yaml)', message: `invalid YAML: ${e.message.split('\n')[0]}` })),
      file,
    );
  }
  return parseConfig(doc.toJS(), overrides, file);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}
