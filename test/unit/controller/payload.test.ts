import { describe, expect, it } from 'vitest';
import { alertKey, parseAlertmanagerPayload } from '../../../src/controller/alertmanagerPayload.js';
import { alert, payload } from './helpers.js';

/** A notification exactly as Alertmanager 0.25 serialises it (captured shape). */
const REAL = {
  receiver: 'recovery-controller',
  status: 'firing',
  alerts: [{
    status: 'firing',
    labels: { action: 'restart', agent: 'w', alertname: 'AgentDown', instance: '127.0.0.1:9464', job: 'agentic-supervisor', replica: 'w-0', role: 'w', severity: 'critical' },
    annotations: { description: 'down', runbook_url: 'docs/alerting.md#agentdown', summary: 'Agent w is down' },
    startsAt: '2025-03-01T12:00:00.5+01:00',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prom:9090/graph?g0.expr=agentic_agent_up+%3D%3D+0',
    fingerprint: '0f2d3c4b5a697887',
  }],
  groupLabels: { agent: 'w', alertname: 'AgentDown', instance: '127.0.0.1:9464' },
  commonLabels: { alertname: 'AgentDown' },
  commonAnnotations: { summary: 'Agent w is down' },
  externalURL: 'http://am:9093',
  version: '4',
  groupKey: '{}/{action="restart"}:{agent="w", alertname="AgentDown", instance="127.0.0.1:9464"}',
  truncatedAlerts: 0,
};

describe('the Alertmanager webhook v4 schema', () => {
  it('accepts a real Alertmanager 0.25 notification, nanosecond and offset timestamps included', () => {
    const r = parseAlertmanagerPayload(REAL);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.payload.alerts[0]?.labels.replica).toBe('w-0');
    expect(parseAlertmanagerPayload(payload(alert())).ok).toBe(true);
  });

  it('ignores keys a later Alertmanager may add, and defaults truncatedAlerts to 0', () => {
    const { truncatedAlerts: _t, ...rest } = REAL;
    const r = parseAlertmanagerPayload({ ...rest, somethingNew: true });
    expect(r.ok && r.payload.truncatedAlerts).toBe(0);
  });

  it.each([
    ['another version', { ...REAL, version: '3' }, 'version'],
    ['no alerts array', { ...REAL, alerts: undefined }, 'alerts'],
    ['an alert without a fingerprint', { ...REAL, alerts: [{ ...REAL.alerts[0], fingerprint: undefined }] }, 'alerts[0].fingerprint'],
    ['an unknown alert status', { ...REAL, alerts: [{ ...REAL.alerts[0], status: 'pending' }] }, 'alerts[0].status'],
    ['a startsAt that is not a time', { ...REAL, alerts: [{ ...REAL.alerts[0], startsAt: 'yesterday' }] }, 'alerts[0].startsAt'],
    ['a label value that is not a string', { ...REAL, alerts: [{ ...REAL.alerts[0], labels: { agent: 3 } }] }, 'alerts[0].labels.agent'],
    ['a JSON array', [REAL], '(body)'],
    ['nothing', undefined, '(body)'],
  ])('refuses %s and names where', (_name, body, where) => {
    const r = parseAlertmanagerPayload(body);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).toMatch(/^not an Alertmanager webhook v4 payload: /);
      expect(r.reason).toContain(`${where}:`);
    }
  });

  it('keys an alert instance by fingerprint and startsAt, so a later firing of the same alert is new', () => {
    expect(alertKey(alert())).toBe(alertKey(alert({ annotations: { other: 'x' } })));
    expect(alertKey(alert())).not.toBe(alertKey(alert({ startsAt: '2025-01-01T11:00:00Z' })));
    expect(alertKey(alert())).not.toBe(alertKey(alert({ fingerprint: 'ffff' })));
  });
});
