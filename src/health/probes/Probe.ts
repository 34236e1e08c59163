import type { AgentConfig } from '../../config/schema.js';
import { execProbe } from './execProbe.js';
import { httpProbe } from './httpProbe.js';
import { tcpProbe } from './tcpProbe.js';

/** The outcome of one probe. Probes never throw: a failure is `ok: false` with the reason. */
export interface ProbeResult {
  ok: boolean;
  /** How long the probe took, ms. */
  latencyMs: number;
  /** `HTTP 200`, `connected`, `exit code 0`, or why it failed: `connection refused`, `timed out after 2s`. */
  detail: string;
}

/** Runs one probe, giving up after `timeoutMs`. */
export type Probe = (timeoutMs: number) => Promise<ProbeResult>;

export type ProbeSpec = NonNullable<AgentConfig['probe']>;

/** The probe an agent's `probe` section describes. @throws Error when the section lacks the field its type needs (the config layer rejects that first). */
export function probeFromSpec(spec: ProbeSpec): Probe {
  switch (spec.type) {
    case 'http':
      if (!spec.url) throw new Error('An http probe needs `url`');
      return (ms) => httpProbe(spec.url as string, ms, (status) => status === spec.expected_status);
    case 'tcp':
      if (!spec.address) throw new Error('A tcp probe needs `address`');
      return (ms) => tcpProbe(spec.address as string, ms);
    case 'exec':
      if (!spec.command?.length) throw new Error('An exec probe needs `command`');
      return (ms) => execProbe(spec.command as string[], ms);
  }
}

/** Why a network call failed, in words: `connection refused` rather than `ECONNREFUSED`. */
export function describeNetError(err: unknown, timeoutMs: number): string {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || code === 'ETIMEDOUT') return `timed out after ${timeoutMs / 1000}s`;
  switch (code) {
    case 'ECONNREFUSED': return 'connection refused';
    case 'ECONNRESET': return 'connection reset';
    case 'ENOTFOUND': case 'EAI_AGAIN': return 'host not found';
    case 'EHOSTUNREACH': case 'ENETUNREACH': return 'host unreachable';
    default: return (code ? `${code}: ` : '') + (e.cause?.message ?? e.message ?? String(err));
  }
}
