import type { HealthChecksConfig } from '../config/schema.js';
import { diagnose } from './diagnose.js';
import { cfgSecs, dur } from './format.js';
import { labelOf, type Target } from './Target.js';
import { cpuSince, ok, resultOf, skipped, type CheckContext, type CheckResult, type Finding, type HealthCheck } from './types.js';

/**
 * task_progress: hang and deadlock detection on the task an agent holds.
 * - Over `max_task_duration` (or the agent's own `task_timeout`): the task overran.
 * - No progress message and no output for `stale_task_threshold`: the task is stale,
 *   and the diagnosis says why from the process state, CPU and heartbeats —
 *   livelock, blocked event loop, stopped process, or idle waiting.
 * Both are unhealthy. An agent without a task passes. For a per_task run the
 * supervisor acts on the same thresholds (RunPolicy): the finding says the run is
 * being ended and its attempt failed.
 */
export class TaskProgressCheck implements HealthCheck {
  readonly name = 'task_progress' as const;

  /** @param heartbeatMissMultiplier agent_response.heartbeat_miss_multiplier: when heartbeats count as missing. */
  constructor(private readonly cfg: HealthChecksConfig['task_progress'], readonly intervalMs: number, private readonly heartbeatMissMultiplier: number) {}

  evaluate(t: Target, ctx: CheckContext): CheckResult {
    // A per_task run being ended still holds its task: say what is being done about it.
    const live = t.state === 'running' || (t.mode === 'per_task' && t.state === 'stopping');
    if (!live || t.pid === undefined) return skipped(t.state);
    const task = t.task;
    if (!task) return ok('no task');
    const now = ctx.now;
    const who = labelOf(t);
    const runningMs = now - task.startedAt;
    const lastActivity = Math.max(task.lastProgressAt, t.lastOutputAt ?? -Infinity, task.startedAt);
    const quietMs = now - lastActivity;
    const pctDone = task.progress !== null ? ` at ${Math.round(task.progress * 100)}%` : '';
    const summary = `${task.id}: ${dur(runningMs)}, last progress ${dur(quietMs)} ago${pctDone}`;
    const findings: Finding[] = [];
    const maxS = t.config.task_timeout ?? this.cfg.max_task_duration;
    const maxKey = t.config.task_timeout !== undefined ? 'task_timeout' : 'max_task_duration';
    const staleMs = this.cfg.stale_task_threshold * 1000;

    if (quietMs > staleMs) {
      const d = this.diagnosis(t, ctx, lastActivity);
      const what = t.mode === 'per_task' ? 'has produced no output' : 'has made no progress';
      findings.push({
        check: 'task_progress', kind: 'stale_task', severity: 'unhealthy', value: Math.round(quietMs / 1000), threshold: this.cfg.stale_task_threshold, unit: 's',
        since: lastActivity, diagnosis: d.kind, restart: true,
        message: `${who}: task ${task.id} ${what} for ${dur(quietMs)} (stale_task_threshold ${cfgSecs(this.cfg.stale_task_threshold)}); ${d.text}${this.action(t, 'stalled')}`,
      });
    }
    if (runningMs > maxS * 1000) {
      const moving = quietMs <= staleMs ? ` — still progressing (last ${dur(quietMs)} ago${pctDone}), just slower than allowed` : '';
      findings.push({
        check: 'task_progress', kind: 'task_overrun', severity: 'unhealthy', value: Math.round(runningMs / 1000), threshold: maxS, unit: 's',
        since: task.startedAt + maxS * 1000, diagnosis: quietMs <= staleMs ? 'slow_task' : 'hung_task', restart: true,
        message: `${who}: task ${task.id} has run for ${dur(runningMs)} (${maxKey} ${cfgSecs(maxS)})${moving}${this.action(t, 'timeout')}`,
      });
    }
    return resultOf(summary, findings, { task_running_seconds: runningMs / 1000, task_quiet_seconds: quietMs / 1000 });
  }

  /**
   * What happens next to a per_task run (the supervisor's RunPolicy acts on the same
   * thresholds); a service replica's restart is the UnhealthyRestarter's to report.
   */
  private action(t: Target, cause: 'stalled' | 'timeout'): string {
    if (t.mode !== 'per_task') return '';
    const how = `SIGTERM to its process group, SIGKILL after stop_timeout ${cfgSecs(t.config.stop_timeout)}`;
    const verb = t.state === 'stopping' ? 'is ending' : 'ends';
    return `; the supervisor ${verb} this run (${how}) and fails the attempt as ${cause}: the task is retried or dead-lettered`;
  }

  private diagnosis(t: Target, ctx: CheckContext, quietSince: number) {
    const hbLimitMs = this.heartbeatMissMultiplier * t.config.heartbeat_interval * 1000;
    const hbAge = t.lastHeartbeatAt !== undefined ? ctx.now - t.lastHeartbeatAt : undefined;
    return diagnose({
      procState: ctx.procState(t.pid as number), cpuPercent: cpuSince(ctx, t.pid as number, quietSince), idleCpuPercent: this.cfg.idle_cpu_percent,
      protocol: t.protocol, unresponsive: t.protocol && hbAge !== undefined && hbAge > hbLimitMs, silentForMs: hbAge,
    });
  }
}
