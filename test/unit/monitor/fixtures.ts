import { deriveHealth } from '../../../src/cli/monitor/health.js';
import type { AgentStatus, Snapshot, StatusBody } from '../../../src/cli/monitor/model.js';

/** 2026-03-14 10:42:00 local time: tests read clock times in the local zone, like the monitor. */
export const NOW = new Date(2026, 2, 14, 10, 42, 0).getTime();

export function agent(over: Partial<AgentStatus> & { agent: string }): AgentStatus {
  return {
    role: over.agent,
    replica: `${over.agent}-0`,
    mode: 'service',
    state: 'running',
    pid: 1234,
    uptime_seconds: 125,
    restarts: 0,
    restarts_by_reason: {},
    task: null,
    cpu_percent: 15.2,
    rss_bytes: 234 * 1024 * 1024,
    last_heartbeat_age_seconds: 0.5,
    protocol: true,
    sdk: 'node@1',
    restart_at: null,
    last_exit: null,
    env_keys: [],
    ...over,
  };
}

/** The seed's mock fleet: saa, deva_python, qaa (2 replicas), sma, deva_ts (per_task). */
export function seedFleet(): AgentStatus[] {
  return [
    agent({ agent: 'saa', task: { id: 'STORY_318', progress: 0.5, message: 'scanning', running_seconds: 40 } }),
    agent({ agent: 'deva_python', cpu_percent: 8, rss_bytes: 512 * 1024 * 1024 }),
    agent({ agent: 'qaa', replica: 'qaa-0', cpu_percent: 12, rss_bytes: 178 * 1024 * 1024 }),
    agent({ agent: 'qaa', replica: 'qaa-1', state: 'backoff', pid: null, cpu_percent: null, rss_bytes: null, uptime_seconds: null, restarts: 2, restarts_by_reason: { crash: 2 }, restart_at: new Date(NOW + 3200).toISOString(), last_exit: { at: new Date(NOW - 800).toISOString(), code: null, signal: 'SIGKILL', reason: 'crash: killed by SIGKILL' } }),
    agent({ agent: 'sma', cpu_percent: 2, rss_bytes: 89 * 1024 * 1024 }),
    agent({ agent: 'deva_ts', replica: 'deva_ts', mode: 'per_task', state: 'idle', pid: null, cpu_percent: null, rss_bytes: null, uptime_seconds: null, concurrency: { running: 0, max: 2, tasks: [] } }),
  ];
}

export function status(agents: AgentStatus[], over: Partial<StatusBody> = {}): StatusBody {
  return {
    supervisor: { pid: 4242, started_at: new Date(NOW - 3600_000).toISOString(), version: '0.1.0' },
    agents,
    queue: { pending: 12, in_progress: 2 },
    ...over,
  };
}

export function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  const st = over.status ?? status(seedFleet());
  return { at: NOW, okAt: NOW, connected: true, status: st, health: deriveHealth(st), ratePerMin: 3.2, events: [], ...over };
}
