import { describe, expect, it } from 'vitest';
import { escalationPayload, escalationSubject, escalationText, nextSteps } from '../../../src/recovery/escalation/formatEscalation.js';
import type { Escalation } from '../../../src/recovery/escalation/Notifier.js';

const esc = (reason: Escalation['reason']): Escalation => ({ agent: 'deva_python', role: 'deva_python', slot: 'deva_python-1', reason, detail: 'restart attempts (3) exhausted', at: Date.UTC(2025, 5, 1, 12, 0, 0) });

describe('escalation formatting', () => {
  it('names the replica and the reason in words in the subject', () => {
    expect(escalationSubject(esc('circuit_open'))).toBe('[agentic] deva_python-1: circuit breaker open');
    expect(escalationSubject(esc('restarts_exhausted'))).toBe('[agentic] deva_python-1: restart attempts exhausted');
  });

  it('tells the reader what to do next, pointing at the right state directory', () => {
    const text = escalationText(esc('restarts_exhausted'), { stateDir: '/srv/agentic state' });
    expect(text).toContain('Reason:   restarts_exhausted (restart attempts exhausted)');
    expect(text).toContain('Time:     2025-06-01T12:00:00.000Z');
    expect(text).toContain('given up restarting it');
    expect(text).toContain("agentic-scrum-setup background reset deva_python --state-dir '/srv/agentic state'");
    expect(text).not.toContain('Host:');
  });

  it('leaves --state-dir out when it is not known', () => {
    expect(nextSteps(esc('circuit_open'))).toEqual({
      status: 'agentic-scrum-setup background status',
      logs: 'agentic-scrum-setup background logs deva_python --level warn --since 1h',
      reset: 'agentic-scrum-setup background reset deva_python',
    });
  });

  it('builds the version 1 webhook payload with an ISO time', () => {
    expect(escalationPayload(esc('circuit_open'), 'h1')).toEqual({
      version: 1, kind: 'escalation', agent: 'deva_python', role: 'deva_python', replica: 'deva_python-1',
      reason: 'circuit_open', detail: 'restart attempts (3) exhausted', at: '2025-06-01T12:00:00.000Z', host: 'h1',
    });
  });
});
