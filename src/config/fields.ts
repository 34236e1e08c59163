import { z } from 'zod';
import { argvLimitProblems, envEntryProblem } from './argvLimits.js';
import { didYouMean } from './didYouMean.js';

/**
 * Field validators for the config schema. Each one accepts any input and, when it
 * is wrong, reports one issue worded "expected <what>, got <found>", so every
 * problem names what was expected and what was found.
 */

const DURATION_RE = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?$/;
const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/**
 * The longest duration accepted, in seconds: Node timers overflow above 2^31-1 ms
 * (about 24.8 days) and would fire at once.
 */
export const MAX_DURATION_SECONDS = 2_147_483;

/**
 * Parses a duration into seconds: a number (`30`, `0.5`), a numeric string (`"30"`)
 * or a string with a unit (`"500ms"`, `"30s"`, `"5m"`, `"1h"`).
 * Returns NaN when the value is not a duration (negative strings included).
 */
export function parseDurationSeconds(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return Number.NaN;
  const m = DURATION_RE.exec(value.trim());
  if (!m) return Number.NaN;
  return Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] as number);
}

/** How a found value is shown in messages: strings quoted, other scalars with their type. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing (the key is missing)';
  if (v === null) return 'null (an empty value)';
  if (Array.isArray(v)) return v.length === 0 ? 'an empty list' : 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v);
  return `${String(v)} (${typeof v})`;
}

/** A validator that reports `expected <what>, got <found>` when `ok` fails. */
const field = <T>(what: string | ((v: unknown) => string), ok: (v: unknown) => boolean) =>
  z.unknown().transform((v, ctx): T => {
    if (!ok(v)) {
      ctx.addIssue({ code: 'custom', message: typeof what === 'string' ? `expected ${what}, got ${describeValue(v)}` : what(v) });
      return z.NEVER;
    }
    return v as T;
  });

const DURATION_HINT = 'write a number of seconds such as 30, or a duration such as "500ms", "30s", "5m" or "1h"';

/**
 * A duration in seconds (see parseDurationSeconds), positive unless `allowZero`,
 * at most MAX_DURATION_SECONDS.
 */
export const seconds = (opts: { allowZero?: boolean } = {}) =>
  z.unknown().transform((v, ctx) => {
    const s = parseDurationSeconds(v);
    const sign = opts.allowZero ? 'non-negative' : 'positive';
    let message: string | undefined;
    if (!Number.isFinite(s) || (opts.allowZero ? s < 0 : s <= 0)) message = `expected a ${sign} number of seconds, got ${describeValue(v)}; ${DURATION_HINT}`;
    else if (s > MAX_DURATION_SECONDS) message = `expected a ${sign} number of seconds up to ${MAX_DURATION_SECONDS} (about 24.8 days), got ${describeValue(v)}`;
    if (message) {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    return s;
  });

/** An integer in [min, max]. */
export const int = (min: number, max = Number.MAX_SAFE_INTEGER, what = 'an integer') =>
  field<number>(`${what} from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`, (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max);

/** A finite number in [min, max]. */
export const num = (min: number, max: number, what: string) =>
  field<number>(`${what} from ${min} to ${max}`, (v) => typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max);

export const bool = () => field<boolean>('true or false', (v) => typeof v === 'boolean');

export const str = (what = 'a non-empty string') => field<string>(what, (v) => typeof v === 'string' && v.length > 0);

/** One of a fixed set of strings, with a "did you mean" hint for near misses. */
export const oneOf = <T extends string>(values: readonly T[]) =>
  field<T>(
    (v) => {
      const hint = typeof v === 'string' ? didYouMean(v, values) : undefined;
      return `expected one of ${values.map((x) => `"${x}"`).join(', ')}, got ${describeValue(v)}${hint ? `; did you mean "${hint}"?` : ''}`;
    },
    (v) => typeof v === 'string' && (values as readonly string[]).includes(v),
  );

const NAME_RE = /^[a-z][a-z0-9_]{0,62}$/;
/** An agent or role name: `deva_python`, `qaa`. Used in metric labels and file names. */
export const agentName = field<string>(
  (v) => {
    const fixed = typeof v === 'string' ? v.trim().toLowerCase().replace(/[-\s.]+/g, '_') : '';
    const hint = fixed !== v && NAME_RE.test(fixed) ? `; did you mean "${fixed}"?` : '';
    return `expected a name of 1 to 63 lowercase letters, digits and "_", starting with a letter (like "deva_python"), got ${describeValue(v)}${hint}`;
  },
  (v) => typeof v === 'string' && NAME_RE.test(v),
);

const hasNul = (s: string) => s.includes('\0');

const argvShape = field<string[]>(
  (v) => {
    const bad = Array.isArray(v) ? v.findIndex((x) => typeof x !== 'string' || hasNul(x)) : -1;
    const found = bad >= 0 ? `a list whose item [${bad}] is ${describeValue((v as unknown[])[bad])}` : describeValue(v);
    const hint = typeof v === 'string' && v.trim() ? `; write it as a list, for example [${v.trim().split(/\s+/).map((x) => JSON.stringify(x)).join(', ')}]` : '';
    return `expected a non-empty list of strings (an argv list such as ["node", "agent.js"]; commands are never run through a shell), got ${found}${hint}`;
  },
  (v) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x.length > 0 && !hasNul(x)),
);

/**
 * A command as an argv list. Commands are never run through a shell. Each argument
 * and the whole line must fit the kernel's limits (argvLimits.ts), or the command
 * could never be spawned.
 */
export const argv = argvShape.transform((v, ctx) => {
  for (const p of argvLimitProblems(v)) ctx.addIssue({ code: 'custom', path: p.index === undefined ? [] : [p.index], message: p.message });
  return v;
});

const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A mapping of environment variable names to values; numbers and booleans become strings. */
export const envMap = z.unknown().transform((v, ctx) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    ctx.addIssue({ code: 'custom', message: `expected a mapping of variable names to strings, got ${describeValue(v)}` });
    return z.NEVER;
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (!ENV_NAME_RE.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: `expected an environment variable name (letters, digits and "_", not starting with a digit), got ${JSON.stringify(k)}` });
    else if (typeof val === 'string' && !hasNul(val)) out[k] = val;
    else if (typeof val === 'number' || typeof val === 'boolean') out[k] = String(val);
    else ctx.addIssue({ code: 'custom', path: [k], message: `expected a string, got ${describeValue(val)}` });
    const tooLong = out[k] === undefined ? undefined : envEntryProblem(k, out[k]);
    if (tooLong) ctx.addIssue({ code: 'custom', path: [k], message: tooLong });
  }
  return out;
});

/** A list whose items each pass `ok`; every bad item is reported at its own index. */
export const listOf = (what: string, plural: string, ok: (x: unknown) => boolean) =>
  z.unknown().transform((v, ctx) => {
    if (!Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: `expected a list of ${plural}, got ${describeValue(v)}` });
      return z.NEVER;
    }
    v.forEach((x, i) => {
      if (!ok(x)) ctx.addIssue({ code: 'custom', path: [i], message: `expected ${what}, got ${describeValue(x)}` });
    });
    return v as string[];
  });

export const envName = (x: unknown) => typeof x === 'string' && ENV_NAME_RE.test(x);
/** The name of an environment variable (`AGENTIC_QUEUE_URL`). */
export const envVar = (what: string) => field<string>(what, envName);
export const emailAddress = (x: unknown) => typeof x === 'string' && /^[^\s@]+@[^\s@]+$/.test(x);

const isUrl = (v: unknown, protocols: readonly string[]) => {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return protocols.includes(u.protocol) && u.host !== '';
  } catch {
    return false;
  }
};

/** An absolute URL with one of the given schemes (`'http:'`, `'https:'`, `'tcp:'`). */
export const url = (what: string, protocols: readonly string[]) => field<string>(what, (v) => isUrl(v, protocols));

/** `host:port`, with an optional `[ipv6]` host. */
export const hostPort = field<string>('an address "host:port" with a port from 1 to 65535', (v) => {
  if (typeof v !== 'string') return false;
  const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):(\d{1,5})$/.exec(v);
  return !!m && Number(m[2]) >= 1 && Number(m[2]) <= 65535;
});
