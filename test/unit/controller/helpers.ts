import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AlertmanagerAlert, AlertmanagerPayload } from '../../../src/controller/alertmanagerPayload.js';
import { DecisionStore, openControllerDb } from '../../../src/controller/DecisionStore.js';
import { RecoveryController } from '../../../src/controller/RecoveryController.js';
import { RestartRateLimiter } from '../../../src/controller/RestartRateLimiter.js';
import { resolveTarget, type OkTarget, type ReplicaView, type SupervisorPort, type TargetCheck } from '../../../src/controller/SupervisorPort.js';
import type { Db } from '../../../src/store/Database.js';

/** One alert as Alertmanager 0.25 sends it (firing, action=restart on qaa-0 unless overridden). */
export function alert(over: Partial<AlertmanagerAlert> & { labels?: Record<string, string> } = {}): AlertmanagerAlert {
  return {
    status: 'firing',
    startsAt: '2025-01-01T10:00:00.123456789Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://127.0.0.1:9090/graph?g0.expr=x',
    fingerprint: 'a1b2c3d4e5f60718',
    annotations: { summary: 'Agent qaa replica qaa-0 is unresponsive', runbook_url: 'docs/alerting.md#agentunresponsive' },
    ...over,
    labels: { alertname: 'AgentUnresponsive', severity: 'critical', action: 'restart', agent: 'qaa', role: 'qaa', replica: 'qaa-0', instance: '127.0.0.1:9464', ...over.labels },
  };
}

/** A notification carrying `alerts`. */
export function payload(...alerts: AlertmanagerAlert[]): AlertmanagerPayload {
  return {
    version: '4',
    groupKey: '{}/{action="restart"}:{alertname="AgentUnresponsive", agent="qaa", instance="127.0.0.1:9464"}',
    truncatedAlerts: 0,
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    receiver: 'recovery-controller',
    groupLabels: { alertname: 'AgentUnresponsive', agent: 'qaa', instance: '127.0.0.1:9464' },
    commonLabels: { alertname: 'AgentUnresponsive' },
    commonAnnotations: {},
    externalURL: 'http://127.0.0.1:9093',
    alerts,
  };
}

/** A supervisor made of rows; records the restarts it is asked for. */
export class FakePort implements SupervisorPort {
  restarts: { slots: string[]; alertname: string }[] = [];
  failNext: Error | undefined;
  constructor(public rows: ReplicaView[] = [{ agent: 'qaa', replica: 'qaa-0', mode: 'service', state: 'running', breaker: 'closed' }, { agent: 'qaa', replica: 'qaa-1', mode: 'service', state: 'running', breaker: 'closed' }]) {}
  inspect(labels: Readonly<Record<string, string>>): TargetCheck | Promise<TargetCheck> {
    return resolveTarget(this.rows, labels, null);
  }
  async restart(target: OkTarget, alertname: string): Promise<void> {
    if (this.failNext) {
      const e = this.failNext;
      this.failNext = undefined;
      throw e;
    }
    this.restarts.push({ slots: target.slots, alertname });
  }
}

export interface Rig {
  db: Db;
  file: string;
  controller: RecoveryController;
  port: FakePort;
  store: DecisionStore;
  clock: { now: number };
  logs: { msg: string; obj: Record<string, unknown> }[];
  metrics: { actions: string[]; decisions: number[] };
}

/** A controller over a real SQLite file, a fake port and a fake clock. */
export function rig(opts: { file?: string; port?: FakePort; maxPerMinute?: number; cooldown?: number; clock?: { now: number } } = {}): Rig {
  const file = opts.file ?? path.join(mkdtempSync(path.join(tmpdir(), 'agentic-controller-')), 'state.db');
  const db = openControllerDb(file);
  const clock = opts.clock ?? { now: Date.parse('2025-01-01T10:05:00Z') };
  const now = () => clock.now;
  const store = new DecisionStore(db, { now });
  const port = opts.port ?? new FakePort();
  const logs: Rig['logs'] = [];
  const metrics: Rig['metrics'] = { actions: [], decisions: [] };
  const push = (obj: Record<string, unknown>, msg: string) => logs.push({ obj, msg });
  const log = { info: push, warn: push, error: push };
  const controller = new RecoveryController({
    store, port, log, now,
    limiter: new RestartRateLimiter({ maxPerMinute: opts.maxPerMinute ?? 100, targetCooldownSeconds: opts.cooldown ?? 0, ledger: store.cooldowns, now }),
    metrics: { action: (_a, r) => metrics.actions.push(r), decisionSeconds: (s) => metrics.decisions.push(s) },
  });
  return { db, file, controller, port, store, clock, logs, metrics };
}
