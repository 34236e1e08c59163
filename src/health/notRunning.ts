import type { RecordedCrash } from './CrashMemory.js';
import { cfgSecs, dur } from './format.js';
import { labelOf, type Target } from './Target.js';
import { resultOf, skipped, type CheckResult, type Finding } from './types.js';

/**
 * The agent_response result of a replica whose process is not running:
 * restarting after an exit (degraded), breaker open or restarts given up
 * (unhealthy). For a running replica: undefined, or, after a recent `crash`, a
 * degraded result the caller adds its own findings to. Never a reason to restart:
 * the restart policy already owns such a replica.
 */
export function notRunning(t: Target, now: number, crash?: RecordedCrash, stableMs = 0): CheckResult | undefined {
  const who = labelOf(t);
  if ((t.state === 'running' || t.state === 'starting') && crash) {
    const f: Finding = {
      check: 'agent_response', kind: 'recent_crash', subject: 'crash', severity: 'degraded', value: crash.reason, threshold: null, since: crash.at, diagnosis: 'crashed', restart: false,
      message: `${who}: crashed ${dur(now - crash.at)} ago (${crash.reason}) and was restarted; it counts as recovered once it has run for stable_uptime ${cfgSecs(stableMs / 1000)}`,
    };
    return t.state === 'starting' ? resultOf('restarted after a crash', [f]) : { status: 'degraded', summary: 'restarted after a crash', findings: [f] };
  }
  const last = t.lastExit ? `last exit: ${t.lastExit.reason}` : 'no exit recorded';
  const base = { check: 'agent_response' as const, kind: 'not_running', value: t.state, threshold: 'running', since: t.lastExit?.at ?? now, restart: false };
  switch (t.state) {
    case 'running':
      return undefined;
    case 'starting':
    case 'stopping':
    case 'stopped':
      return skipped(t.state);
    case 'backoff':
      return resultOf(`restarting in ${dur((t.restartAt ?? now) - now)}`, [{
        ...base, severity: 'degraded', diagnosis: 'crashed',
        message: `${who}: not running (${last}); the restart policy starts it again in ${dur((t.restartAt ?? now) - now)}`,
      }]);
    case 'circuit_open':
      return resultOf('circuit open', [{
        ...base, severity: 'unhealthy', diagnosis: 'circuit_open',
        message: `${who}: not running, circuit breaker open after repeated failures (${last}); next trial start in ${dur((t.restartAt ?? now) - now)}`,
      }]);
    case 'failed':
      return resultOf('failed', [{
        ...base, severity: 'unhealthy', diagnosis: 'gave_up',
        message: `${who}: not running, restart attempts exhausted (${last}); fix the cause, then run \`agentic-scrum-setup background reset ${t.agent}\``,
      }]);
    default:
      return skipped(t.state);
  }
}
