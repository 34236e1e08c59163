import type { AgentConfig } from '../config/schema.js';

/** Environment variable names whose values are treated as secrets even when not listed in `secret_env`. */
export const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL)/i;

/**
 * The secret values an agent can see: its `secret_env` names and any variable
 * whose name looks secret (ANTHROPIC_API_KEY, GITHUB_TOKEN, …), from its own env
 * and the inherited one. Values shorter than 8 characters are ignored: they would
 * redact ordinary words. Never logged or returned by the API; used to redact output.
 */
export function secretValues(a: AgentConfig, baseEnv: NodeJS.ProcessEnv): string[] {
  const env: Record<string, string | undefined> = { ...baseEnv, ...a.env };
  const names = new Set([...a.secret_env, ...Object.keys(env).filter((k) => SECRET_NAME.test(k))]);
  const values = [...names].map((n) => env[n]).filter((v): v is string => typeof v === 'string' && v.length >= 8);
  return [...new Set(values)].sort((x, y) => y.length - x.length);
}

/** Replaces every occurrence of a secret value with `[REDACTED]`. */
export function redact(line: string, secrets: readonly string[]): string {
  let out = line;
  for (const s of secrets) if (out.includes(s)) out = out.replaceAll(s, '[REDACTED]');
  return out;
}
