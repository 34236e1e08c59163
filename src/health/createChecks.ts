import type { BackgroundConfig } from '../config/schema.js';
import { AgentResponseCheck } from './agentResponse.js';
import { ConnectivityCheck } from './connectivity.js';
import type { CrashMemory } from './CrashMemory.js';
import { MemoryLeakCheck } from './memoryLeaks.js';
import { ResourceUsageCheck } from './resourceUsage.js';
import { TaskProgressCheck } from './taskProgress.js';
import type { HealthCheck } from './types.js';

/**
 * The enabled checks of `background.monitoring.health_checks`, each on its own
 * `interval` or `check_interval`. agent_response runs at least as often as the
 * shortest probe `period`, so a probe runs on time.
 */
export function createChecks(bg: Pick<BackgroundConfig, 'monitoring' | 'agents'>, crashes?: CrashMemory): HealthCheck[] {
  const m = bg.monitoring;
  const hc = m.health_checks;
  const every = (c: { interval?: number | undefined }) => (c.interval ?? m.check_interval) * 1000;
  const checks: HealthCheck[] = [];
  if (hc.agent_response.enabled) {
    const periods = bg.agents.flatMap((a) => (a.probe ? [a.probe.period * 1000] : []));
    checks.push(new AgentResponseCheck({ cfg: hc.agent_response, idleCpuPercent: hc.task_progress.idle_cpu_percent, intervalMs: Math.min(every(hc.agent_response), ...periods), crashes }));
  }
  if (hc.resource_usage.enabled) checks.push(new ResourceUsageCheck(hc.resource_usage, every(hc.resource_usage), m.sample_interval * 1000));
  if (hc.task_progress.enabled) checks.push(new TaskProgressCheck(hc.task_progress, every(hc.task_progress), hc.agent_response.heartbeat_miss_multiplier));
  if (hc.memory_leaks.enabled) checks.push(new MemoryLeakCheck(hc.memory_leaks, every(hc.memory_leaks), hc.resource_usage.max_memory_mb, m.sample_interval * 1000));
  if (hc.connectivity.enabled) checks.push(new ConnectivityCheck(hc.connectivity, every(hc.connectivity)));
  return checks;
}
