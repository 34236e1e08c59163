import { describe, expect, it } from 'vitest';
import type { ExitInfo } from '../../../src/supervisor/AgentProcess.js';
import type { RunEnding, RunResult, StopReason } from '../../../src/supervisor/PerTaskRunState.js';
import { runOutcome } from '../../../src/supervisor/runOutcome.js';

const ok: RunResult = { kind: 'result', ok: true, result: 'done', total_cost_usd: 0.1 };
const bad: RunResult = { kind: 'result', ok: false, result: 'max turns reached', subtype: 'error_max_turns', num_turns: 30 };
const ending = (exit: ExitInfo, stop?: StopReason, result?: RunResult): RunEnding => ({ exit, stop, result, killed: false, durationMs: 1 });
const stop = (cause: StopReason['cause']): StopReason => ({ cause, detail: `because ${cause}` });
const TERM: ExitInfo = { code: null, signal: 'SIGTERM' };

describe('runOutcome: what becomes of a run\'s task', () => {
  it('completes on exit code 0 (with or without a successful result)', () => {
    expect(runOutcome(ending({ code: 0, signal: null }, undefined, ok))).toEqual({ outcome: 'completed', result: ok });
    expect(runOutcome(ending({ code: 0, signal: null }))).toEqual({ outcome: 'completed', result: undefined });
  });

  it('fails an exit without a result (agent_failed), an error result (agent_failed), and a signal nobody sent (crashed)', () => {
    expect(runOutcome(ending({ code: 1, signal: null }))).toEqual({ outcome: 'failed', cause: 'agent_failed', error: 'exited with code 1', retryable: true });
    expect(runOutcome(ending({ code: 1, signal: null }, undefined, bad))).toEqual({ outcome: 'failed', cause: 'agent_failed', error: 'claude result error_max_turns after 30 turns: max turns reached', retryable: true });
    expect(runOutcome(ending({ code: 0, signal: null }, undefined, bad))).toMatchObject({ outcome: 'failed', cause: 'agent_failed' });
    expect(runOutcome(ending({ code: null, signal: 'SIGSEGV' }))).toEqual({ outcome: 'failed', cause: 'crashed', error: 'killed by SIGSEGV', retryable: true });
  });

  it('fails a run ended by a timeout with that cause and reason, even if it then exited 0', () => {
    expect(runOutcome(ending(TERM, stop('timeout')))).toEqual({ outcome: 'failed', cause: 'timeout', error: 'because timeout', retryable: true });
    expect(runOutcome(ending({ code: 0, signal: null }, stop('stalled')))).toEqual({ outcome: 'failed', cause: 'stalled', error: 'because stalled', retryable: true });
  });

  it('completes a run the supervisor ended after its successful result, whatever the reason (never run and pay twice)', () => {
    for (const c of ['result_linger', 'timeout', 'operator_restart', 'supervisor_stopped'] as const) expect(runOutcome(ending(TERM, stop(c), ok))).toEqual({ outcome: 'completed', result: ok });
    expect(runOutcome(ending(TERM, stop('result_linger'), bad))).toMatchObject({ outcome: 'failed', cause: 'agent_failed', error: 'claude result error_max_turns after 30 turns: max turns reached' });
  });

  it('releases a run ended by an operator restart or a graceful stop, and one of a cancelled task', () => {
    expect(runOutcome(ending(TERM, stop('operator_restart')))).toEqual({ outcome: 'released', cause: 'operator_restart', detail: 'because operator_restart' });
    expect(runOutcome(ending({ code: 0, signal: null }, stop('supervisor_stopped')))).toEqual({ outcome: 'released', cause: 'supervisor_stopped', detail: 'because supervisor_stopped' });
    expect(runOutcome(ending(TERM, stop('cancelled'), ok))).toEqual({ outcome: 'released', cause: 'cancelled', detail: 'because cancelled' });
  });

  it('fails a run that could not be spawned; not retryable when the argv is too long (E2BIG), retryable otherwise', () => {
    expect(runOutcome(ending({ code: null, signal: null, spawnError: 'E2BIG: spawn E2BIG' }))).toEqual({ outcome: 'failed', cause: 'spawn_failed', error: 'could not start: E2BIG: spawn E2BIG', retryable: false });
    expect(runOutcome(ending({ code: null, signal: null, spawnError: 'ENOENT: spawn nope ENOENT' }))).toMatchObject({ cause: 'spawn_failed', retryable: true });
  });
});
