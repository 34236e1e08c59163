import { EventEmitter } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { parseConfig } from '../../src/config/loadConfig.js';
import type { BackgroundConfig } from '../../src/config/schema.js';
import type { FindingJson, HealthReportJson } from '../../src/health/report.js';
import type { Target } from '../../src/health/Target.js';
import type { CheckContext } from '../../src/health/types.js';
import type { ResourceSample } from '../../src/supervisor/ResourceSampler.js';
import { FixedDelayRestartPolicy } from '../../src/recovery/RestartPolicy.js';
import type { PerTaskAgent } from '../../src/supervisor/PerTaskAgent.js';
import { Replica } from '../../src/supervisor/Replica.js';
import type { SupervisorEvents } from '../../src/supervisor/Supervisor.js';
import { findingOf, type FaultSpec } from '../fixtures/health/faults.js';
import { FakeProcess } from './FakeProcess.js';
import { waitFor, type RunningSupervisor } from './harness.js';

/** A parsed config (defaults filled in) whose `background` section is `bg`. */
export function bgConfig(bg: Record<string, unknown> = {}): BackgroundConfig {
  return parseConfig({ background: { agents: [{ name: 'qaa', command: ['node', 'qaa.mjs'] }], ...bg } }).background;
}

const baseAgent = bgConfig().agents[0]!;

/** A running protocol replica `qaa-0` (pid 4242, started at `at`) with `over` applied. */
export function target(at: number, over: Partial<Target> & { agentConfig?: Partial<BackgroundConfig['agents'][number]> } = {}): Target {
  const { agentConfig, ...rest } = over;
  return {
    id: 'qaa-0', agent: 'qaa', role: 'qaa', mode: 'service', config: { ...baseAgent, ...agentConfig }, state: 'running',
    pid: 4242, incarnation: `4242@${at}`, startedAt: at, protocol: true, lastHeartbeatAt: at, lastOutputAt: undefined,
    heapAfterGcBytes: undefined, task: undefined, lastExit: undefined, restartAt: undefined,
    ping: async () => 1.5,
    ...rest,
  };
}

/** A check context at `now` with a fixed /proc state and CPU/RSS sample per pid. */
export function context(now: number, procs: Record<number, { state?: string; cpu?: number; rss?: number; at?: number }> = {}): CheckContext {
  return {
    now,
    procState: (pid) => procs[pid]?.state ?? (procs[pid] ? 'S' : undefined),
    sample: (pid): ResourceSample | undefined => {
      const p = pid === undefined ? undefined : procs[pid];
      if (!p || p.cpu === undefined) return undefined;
      return { at: p.at ?? now, cpuPercent: p.cpu, rssBytes: p.rss ?? 50 * 1024 * 1024, processes: 1 };
    },
    sampleIntervalMs: 0,
  };
}

/** An in-memory pino-like logger that records (level, fields, message). */
export function memoryLogger() {
  const lines: { level: string; fields: Record<string, unknown>; msg: string }[] = [];
  const at = (level: string) => (fields: object, msg: string) => { lines.push({ level, fields: fields as Record<string, unknown>, msg }); };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * A supervisor-shaped source for HealthChecker tests: real Replicas over
 * FakeProcesses (so fake timers drive everything), and a sampler fed by hand.
 */
export class FakeSource extends EventEmitter<SupervisorEvents> {
  readonly replicas: Replica[] = [];
  readonly perTask: PerTaskAgent[] = [];
  ready = true;
  readonly samples = new Map<number, ResourceSample>();
  readonly sampler = { get: (pid: number | undefined) => (pid === undefined ? undefined : this.samples.get(pid)) };

  constructor(readonly bg: BackgroundConfig) {
    super();
    for (const a of bg.agents) {
      for (let i = 0; i < a.replicas; i++) {
        this.replicas.push(new Replica(a, i, {
          policy: new FixedDelayRestartPolicy(1000),
          spawnSpec: () => ({ argv: a.command, env: {}, maxLineBytes: 1024 }),
          restoredCheckpoint: () => null,
          settings: () => ({ heartbeat_interval_ms: a.heartbeat_interval * 1000, max_checkpoint_bytes: 1024 }),
          createProcess: () => {
            const p = new FakeProcess();
            queueMicrotask(() => p.emit('spawn'));
            return p;
          },
        }));
      }
    }
  }

  replica(slot: string): Replica {
    const r = this.replicas.find((x) => x.slot === slot);
    if (!r) throw new Error(`no replica ${slot}`);
    return r;
  }

  /** The FakeProcess of a running replica. */
  proc(slot: string): FakeProcess {
    return this.replica(slot).process as unknown as FakeProcess;
  }

  /** Makes a replica's process say hello (it then speaks the protocol). */
  hello(slot: string): void {
    this.proc(slot).emit('message', { type: 'hello', protocol: 1, pid: 1, capabilities: ['tasks'] });
  }
}

/** A loopback port nothing listens on (bound, then closed): connecting to it is refused. */
export async function refusedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** How a fault was detected through GET /api/v1/health. */
export interface Detection {
  finding: FindingJson;
  /** When the fault began (epoch ms). */
  faultAt: number;
  /** From the fault to the first report of the finding (its `detected_at`), ms. */
  firstDetectionMs: number;
  /** From the fault to the first poll that saw it at the expected severity, ms (polls every 100 ms). */
  seenMs: number;
}

/**
 * Polls `/api/v1/health?agent=<spec.agent>` until the finding of `spec` shows at
 * its severity. `faultAt` gives the fault's start (from the fault file, or the
 * time the test injected it); given a time, the start of the last episode that
 * began by then, for a fault that repeats.
 */
export async function detect(api: RunningSupervisor['api'], spec: FaultSpec, faultAt: (atOrBefore?: number) => number | undefined, timeoutMs = 40_000): Promise<Detection> {
  return waitFor(`${spec.check} to report ${spec.fault} on ${spec.agent}`, async () => {
    const first = faultAt();
    if (first === undefined) return undefined;
    const r = await api<HealthReportJson>('GET', `/api/v1/health?agent=${spec.agent}`);
    const f = findingOf(r.body, spec);
    if (!f) return undefined;
    // A fault that repeats (a crash after each restart) is measured from the episode the finding is about:
    // a poll that came late may first see the finding of the second crash.
    const detected = Date.parse(f.detected_at);
    const at = faultAt(detected) ?? first;
    return { finding: f, faultAt: at, firstDetectionMs: detected - at, seenMs: Date.now() - at };
  }, timeoutMs, 100);
}

/**
 * The health report of the first round that began after `since` (epoch ms, plus a
 * second for a round already under way): its verdicts saw the fleet as it is now.
 */
export function healthRoundAfter<T extends { checked_at: string | null }>(sup: RunningSupervisor, since: number, timeoutMs: number): Promise<T> {
  return waitFor('a health round after the change', async () => {
    const h = (await sup.api<T>('GET', '/api/v1/health')).body;
    return h.checked_at && Date.parse(h.checked_at) > since + 1000 ? h : undefined;
  }, timeoutMs);
}
