import { splitInstance } from './instanceIdentity.js';
import { RATE_LIMIT_DEFAULTS } from './RestartRateLimiter.js';

/** The controller's brakes, after flags and environment are applied. */
export interface ControllerSettings {
  /** Alert restarts per minute over everything; also the burst. */
  maxRestartsPerMinute: number;
  /** Seconds between two alert restarts of the same target. */
  targetCooldownSeconds: number;
  /** The `instance` labels the in-process controller acts on; empty: decided from the listening port and this host's addresses. */
  instances: readonly string[];
}

/** Environment variables read by {@link controllerSettings} (documented in docs/alerting.md). */
export const CONTROLLER_ENV = {
  maxRestartsPerMinute: 'AGENTIC_CONTROLLER_MAX_RESTARTS_PER_MINUTE',
  targetCooldownSeconds: 'AGENTIC_CONTROLLER_COOLDOWN_SECONDS',
  instances: 'AGENTIC_CONTROLLER_INSTANCES',
} as const;

/** Raised for a setting that is not a number in range; the message names the flag or variable. */
export class ControllerSettingsError extends Error {
  readonly code = 'CONTROLLER_SETTINGS';
}

/**
 * Settings in precedence order: flags, then environment, then defaults
 * (6 restarts per minute, 300 s per target).
 * @throws ControllerSettingsError naming the flag or variable, what it expected and what it got
 */
export function controllerSettings(flags: { maxRestartsPerMinute?: string | undefined; cooldown?: string | undefined } = {}, env: NodeJS.ProcessEnv = process.env): Readonly<ControllerSettings> {
  const pick = (flag: string | undefined, flagName: string, key: keyof typeof CONTROLLER_ENV, min: number, def: number): number => {
    const [raw, name] = flag !== undefined ? [flag, flagName] : [env[CONTROLLER_ENV[key]], CONTROLLER_ENV[key]];
    if (raw === undefined || raw === '') return def;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new ControllerSettingsError(`Expected ${name} to be a number of at least ${min}, got \`${raw}\``);
    return n;
  };
  return Object.freeze({
    maxRestartsPerMinute: pick(flags.maxRestartsPerMinute, '--max-restarts-per-minute', 'maxRestartsPerMinute', 1, RATE_LIMIT_DEFAULTS.maxPerMinute),
    targetCooldownSeconds: pick(flags.cooldown, '--cooldown', 'targetCooldownSeconds', 0, RATE_LIMIT_DEFAULTS.targetCooldownSeconds),
    instances: instancesFrom(env[CONTROLLER_ENV.instances]),
  });
}

/** `host:port,host:port` → the list; each entry must be that shape. */
function instancesFrom(raw: string | undefined): readonly string[] {
  const list = (raw ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  for (const x of list) {
    if (!splitInstance(x)) throw new ControllerSettingsError(`Expected ${CONTROLLER_ENV.instances} to be a comma-separated list of host:port, got \`${x}\``);
  }
  return Object.freeze(list);
}
