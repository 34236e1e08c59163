import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DetectedFinding } from '../../../src/health/FindingLedger.js';
import { HealthChecker } from '../../../src/health/HealthChecker.js';
import { healthReport } from '../../../src/health/report.js';
import type { Target } from '../../../src/health/Target.js';
import type { CheckName, Finding, HealthCheck } from '../../../src/health/types.js';
import { bgConfig, FakeSource, memoryLogger } from '../../helpers/health.js';

/** A check whose findings per target id the test sets; it counts its rounds. */
class ScriptedCheck implements HealthCheck {
  rounds = 0;
  findings = new Map<string, Finding[]>();
  constructor(readonly name: CheckName, readonly intervalMs: number) {}
  evaluate(t: Target) {
    if (t.id === this.lastSeen) this.rounds++;
    const findings = this.findings.get(t.id) ?? [];
    return { status: findings.length ? (findings.some((f) => f.severity === 'unhealthy') ? 'unhealthy' as const : 'degraded' as const) : 'healthy' as const, summary: 'scripted', findings };
  }
  lastSeen = 'qaa-0';
}

const finding = (over: Partial<Finding> = {}): Finding => ({
  check: 'task_progress', kind: 'stale_task', severity: 'unhealthy', value: 200, threshold: 180, unit: 's', since: Date.now(), message: 'qaa: task T has made no progress', restart: true, ...over,
});

function setup(agents: unknown[] = [{ name: 'qaa', command: ['x'] }, { name: 'saa', command: ['x'] }], checks?: HealthCheck[], restart?: (t: Target, f: DetectedFinding) => Promise<unknown>) {
  const bg = bgConfig({ agents, monitoring: { check_interval: 1, sample_interval: 1 } });
  const src = new FakeSource(bg);
  for (const r of src.replicas) r.start();
  const log = memoryLogger();
  const checker = new HealthChecker({ bg, source: src, logger: log, checks, restart, procState: () => 'S' });
  return { src, checker, log };
}

describe('HealthChecker', () => {
  beforeEach(() => { vi.useFakeTimers({ now: 1_700_000_000_000 }); });
  afterEach(() => { vi.useRealTimers(); });

  it('runs every check on its own interval, starting with one round as soon as the supervisor is ready', async () => {
    const fast = new ScriptedCheck('agent_response', 1000);
    const slow = new ScriptedCheck('task_progress', 3000);
    const { src, checker } = setup(undefined, [fast, slow]);
    src.ready = false;
    checker.start();
    await vi.advanceTimersByTimeAsync(250);
    expect(fast.rounds + slow.rounds).toBe(0);
    src.ready = true;
    await vi.advanceTimersByTimeAsync(6000);
    expect(fast.rounds).toBe(7); // the first round after ready, then every second
    expect(slow.rounds).toBe(3);
    await checker.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fast.rounds).toBe(7);
  });

  it('turns findings into a verdict, emits and logs each change once, keeps the detection time, and resolves', async () => {
    const check = new ScriptedCheck('task_progress', 1000);
    const { checker, log } = setup(undefined, [check]);
    const events: string[] = [];
    checker.on('finding', ({ target, finding: f }) => events.push(`finding ${target?.id ?? 'system'} ${f.kind} ${f.severity}`));
    checker.on('resolved', ({ target, finding: f }) => events.push(`resolved ${target?.id ?? 'system'} ${f.kind}`));
    checker.on('system', ({ verdict }) => events.push(`system ${verdict}`));
    checker.on('verdict', ({ target, verdict }) => events.push(`verdict ${target.id} ${verdict}`));
    await vi.advanceTimersByTimeAsync(0);
    await checker.runCheck('task_progress');
    expect(checker.targets().map((h) => h.verdict)).toEqual(['healthy', 'healthy']);
    const t0 = Date.now();
    check.findings.set('qaa-0', [finding({ severity: 'degraded', restart: false })]);
    await checker.runCheck('task_progress');
    vi.setSystemTime(t0 + 5000);
    check.findings.set('qaa-0', [finding()]);
    await checker.runCheck('task_progress');
    await checker.runCheck('task_progress');
    const qaa = checker.targets().find((h) => h.target.id === 'qaa-0')!;
    expect(qaa.verdict).toBe('unhealthy');
    expect(qaa.findings[0]!.detected_at).toBe(t0);
    check.findings.delete('qaa-0');
    await checker.runCheck('task_progress');
    expect(events).toEqual([
      'finding qaa-0 stale_task degraded', 'verdict qaa-0 degraded', 'system degraded',
      // qaa's only replica is unhealthy: the role has no healthy capacity left
      'finding qaa-0 stale_task unhealthy', 'verdict qaa-0 unhealthy', 'finding system capacity unhealthy', 'system unhealthy',
      'resolved qaa-0 stale_task', 'verdict qaa-0 healthy', 'resolved system capacity', 'system healthy',
    ]);
    const lines = log.lines.filter((l) => l.fields.health_check === 'task_progress');
    expect(lines.map((l) => `${l.level} ${l.msg}`)).toEqual([
      'warn health degraded: qaa: task T has made no progress',
      'error health unhealthy: qaa: task T has made no progress',
      'info health recovered: qaa: task_progress stale_task is resolved',
    ]);
    expect(lines[1]!.fields).toMatchObject({ agent: 'qaa', replica: 'qaa-0', severity: 'unhealthy', value: 200, threshold: 180 });
  });

  it('requests one restart per process for an unhealthy finding that warrants it, never for a degraded one or a network problem', async () => {
    const check = new ScriptedCheck('task_progress', 1000);
    const restarts: string[] = [];
    const { src, checker } = setup(undefined, [check], async (t, f) => { restarts.push(`${t.id}: ${f.message}`); });
    await vi.advanceTimersByTimeAsync(0);
    check.findings.set('saa-0', [finding({ check: 'connectivity', kind: 'dependency_unreachable', restart: false, dependency: 'llm' })]);
    check.findings.set('qaa-0', [finding({ severity: 'degraded', restart: false })]);
    await checker.runCheck('task_progress');
    expect(restarts).toEqual([]);
    check.findings.set('qaa-0', [finding()]);
    await checker.runCheck('task_progress');
    await checker.runCheck('task_progress');
    expect(restarts).toEqual(['qaa-0: qaa: task T has made no progress']);
    await src.replica('qaa-0').restart({ kind: 'unhealthy', finding: 'x' }); // a new process
    await vi.advanceTimersByTimeAsync(1500);
    await checker.runCheck('task_progress');
    expect(restarts).toHaveLength(2);
  });

  it('forgets results taken on a process that has since restarted', async () => {
    const check = new ScriptedCheck('task_progress', 60_000);
    const { src, checker } = setup(undefined, [check]);
    await vi.advanceTimersByTimeAsync(0);
    check.findings.set('qaa-0', [finding()]);
    await checker.runCheck('task_progress');
    expect(checker.targets()[0]!.verdict).toBe('unhealthy');
    src.proc('qaa-0').exit({ code: 1, signal: null });
    await vi.advanceTimersByTimeAsync(1500); // FixedDelay policy: restarted after 1 s
    checker.measureSystem();
    expect(checker.targets()[0]).toMatchObject({ verdict: 'healthy', findings: [] });
  });

  it('gives a system verdict from capacity by role: degraded while a replica is down, unhealthy when a role has none healthy', async () => {
    const { src, checker } = setup([{ name: 'qaa', command: ['x'], replicas: 2 }, { name: 'saa', command: ['x'] }], [new ScriptedCheck('agent_response', 1000)]);
    await vi.advanceTimersByTimeAsync(0);
    checker.measureSystem();
    expect(checker.system()).toMatchObject({ verdict: 'healthy', agents: { configured: 2, up: 2, down: [] }, replicas: { configured: 3, up: 3 }, capacity: { qaa: { configured: 2, up: 2, healthy: 2, busy: 0 } } });
    src.proc('qaa-1').exit({ code: 1, signal: null });
    checker.measureSystem();
    expect(checker.system().verdict).toBe('degraded');
    expect(checker.system().findings.map((f) => f.message)).toEqual(['system: role qaa runs with reduced capacity: 1/2 replicas up']);
    src.proc('saa-0').exit({ code: 1, signal: null });
    checker.measureSystem();
    expect(checker.system().verdict).toBe('unhealthy');
    expect(checker.system().findings.map((f) => f.message)).toContain('system: role saa has no healthy capacity (0/1 up, 0 healthy) — its tasks wait in the queue');
  });

  it('does not call a deliberate stop or manual restart an outage: no capacity finding, no error line', async () => {
    const { src, checker, log } = setup([{ name: 'qaa', command: ['x'] }, { name: 'saa', command: ['x'] }], [new ScriptedCheck('agent_response', 1000)]);
    await vi.advanceTimersByTimeAsync(0);
    checker.measureSystem();
    const restarting = src.replica('qaa-0').restart({ kind: 'manual' });
    checker.measureSystem(); // while it stops, on purpose
    expect(checker.system().findings).toEqual([]);
    await restarting;
    const stops = [src.replica('qaa-0').stop('stop'), src.replica('saa-0').stop('stop')];
    checker.measureSystem(); // while they stop
    await Promise.all(stops);
    checker.measureSystem(); // stopped
    expect(checker.system().findings).toEqual([]);
    expect(checker.system().verdict).toBe('healthy');
    expect(log.lines.filter((l) => l.level === 'error' || /capacity/.test(l.msg))).toEqual([]);
  });

  it('diagnoses a dependency outage shared by several agents once, at system level, and not as failing agents', async () => {
    const check = new ScriptedCheck('connectivity', 1000);
    const { checker } = setup([{ name: 'qaa', command: ['x'] }, { name: 'saa', command: ['x'] }, { name: 'sma', command: ['x'] }], [check]);
    await vi.advanceTimersByTimeAsync(0);
    const down = (id: string) => finding({ check: 'connectivity', kind: 'dependency_unreachable', dependency: 'llm-api', value: 'connection refused', restart: false, message: `${id}: cannot reach llm-api` });
    check.findings.set('qaa-0', [down('qaa')]);
    check.findings.set('saa-0', [down('saa')]);
    await checker.runCheck('connectivity');
    expect(checker.targets().map((h) => h.verdict)).toEqual(['healthy', 'healthy', 'healthy']);
    expect(checker.targets()[0]!.checks.connectivity!.summary).toBe('scripted; llm-api: shared outage (see system)');
    const sys = checker.system();
    expect(sys.verdict).toBe('unhealthy');
    expect(sys.findings).toHaveLength(1);
    expect(sys.findings[0]!.message).toMatch(/^system: llm-api is unreachable from 2 agents \(qaa-0, saa-0\) for .*: connection refused — one shared dependency outage, not 2 agent faults/);
    check.findings.delete('saa-0');
    await checker.runCheck('connectivity');
    expect(checker.targets()[0]!.verdict).toBe('unhealthy'); // now it is one agent's problem
    expect(checker.system().findings.map((f) => f.kind)).toEqual(['capacity']);
  });

  it('reports the health as JSON, all agents or one, with every check\'s status', async () => {
    const check = new ScriptedCheck('task_progress', 1000);
    const { src, checker } = setup(undefined, [check]);
    await vi.advanceTimersByTimeAsync(0);
    check.findings.set('saa-0', [finding({ severity: 'degraded', message: 'saa: slow' })]);
    await checker.runCheck('task_progress');
    const all = healthReport(checker, src)!;
    expect(all.verdict).toBe('degraded');
    expect(all.agents.map((a) => `${a.replica} ${a.verdict}`)).toEqual(['qaa-0 healthy', 'saa-0 degraded']);
    expect(all.agents[1]!.checks).toMatchObject({ task_progress: { status: 'degraded', summary: 'scripted' }, agent_response: { status: 'disabled' } });
    expect(all.agents[1]!.findings[0]).toMatchObject({ message: 'saa: slow', detected_at: new Date(Date.now()).toISOString() });
    expect(healthReport(checker, src, 'qaa')!).toMatchObject({ verdict: 'healthy', agents: [{ replica: 'qaa-0' }] });
    expect(healthReport(checker, src, 'saa-0')!.verdict).toBe('degraded');
    expect(healthReport(checker, src, 'nope')).toBeUndefined();
  });

  it('reports an agent that exits at once, without waiting for the next round', async () => {
    const { src, checker } = setup(undefined, [new ScriptedCheck('agent_response', 60_000)]);
    checker.start();
    await vi.advanceTimersByTimeAsync(200);
    const raised: string[] = [];
    checker.on('finding', ({ target, finding: f }) => raised.push(`${target?.id ?? 'system'} ${f.kind} ${f.severity}`));
    src.proc('qaa-0').exit({ code: 1, signal: null }); // the replica goes to backoff (restart in 1 s)
    src.emit('agentExit', { agent: 'qaa', slot: 'qaa-0', reason: 'crash: exited with code 1' });
    await vi.advanceTimersByTimeAsync(1);
    expect(raised).toContain('qaa-0 not_running degraded');
    expect(checker.targets()[0]!.findings[0]!.message).toBe('qaa: not running (last exit: crash: exited with code 1); the restart policy starts it again in 1.0s');
    await checker.stop();
  });
});
