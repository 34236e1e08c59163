import type { ResourceSample } from '../supervisor/ResourceSampler.js';
import type { Target } from './Target.js';

/** A verdict: of one check, of an agent (the worst of its checks), or of the system. */
export type Verdict = 'healthy' | 'degraded' | 'unhealthy';
/** How bad a finding is. */
export type Severity = Exclude<Verdict, 'healthy'>;

/** The five checks of `background.monitoring.health_checks`, in display order. */
export const CHECK_NAMES = ['agent_response', 'resource_usage', 'task_progress', 'memory_leaks', 'connectivity'] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

const RANK: Record<Verdict, number> = { healthy: 0, degraded: 1, unhealthy: 2 };
export const worst = (a: Verdict, b: Verdict): Verdict => (RANK[b] > RANK[a] ? b : a);
export const verdictRank = (v: Verdict): 0 | 1 | 2 => RANK[v] as 0 | 1 | 2;

/**
 * One thing a check found wrong, with what was measured against which threshold
 * and a sentence a person can act on.
 */
export interface Finding {
  /** The check that found it; `system` for system-level findings (capacity, disk, shared outages). */
  check: CheckName | 'system';
  /**
   * Stable machine key of the problem: `not_running`, `ping_timeout`, `heartbeat_missing`,
   * `probe_failed`, `process_stopped`, `no_output`, `cpu`, `memory`, `task_overrun`,
   * `stale_task`, `memory_leak`, `dependency_unreachable`, `capacity`, `disk`, `shared_outage`,
   * `llm_budget` (a role held by its spent LLM budget), `rate_limited` (a role held by the API's rate limit),
   * `shared_rate_limit` (two or more roles held by the API's rate limits at once: the account is limited).
   */
  kind: string;
  severity: Severity;
  /** The measured value (unit in `unit`), or a short text when not a number. */
  value: number | string | null;
  threshold: number | string | null;
  /** Unit of `value` and `threshold`: `s`, `%`, `MB`, `MB/min`, `count`. */
  unit?: string | undefined;
  /** Epoch ms since when the condition holds (e.g. the last progress of a stale task). */
  since: number;
  /** The human sentence, prefixed with the agent: `qaa: task STORY_42 has made no progress for 3m12s …`. */
  message: string;
  /** For stalls, what the evidence points to: `livelock`, `blocked_event_loop`, `stopped`, `idle_wait`, … (diagnose.ts). */
  diagnosis?: string | undefined;
  /** For connectivity findings: the dependency key (its name, url or address). */
  dependency?: string | undefined;
  /** For system findings: what it is about (a role for `capacity`, a path for `disk`). */
  subject?: string | undefined;
  /** Whether a restart is a sensible remedy (it is not for a network outage or a CPU budget). */
  restart?: boolean | undefined;
  /** With `restart`: let the agent finish its current task first (drain: it takes no new one), then restart. */
  restartAfterTask?: boolean | undefined;
}

/** What one check concluded about one target in one round. */
export interface CheckResult {
  /** `skipped` when the check does not apply (not running, disabled, no targets configured). */
  status: Verdict | 'skipped';
  /** A short summary for the table: `pong 2 ms`, `CPU 3.1%, RSS 45 MB`, `no task`. */
  summary: string;
  findings: Finding[];
  /** Numbers other layers export, e.g. `growth_bytes_per_second`. */
  measurements?: Record<string, number> | undefined;
}

/** What every check may read besides the target; injected so tests control time and /proc. */
export interface CheckContext {
  /** Epoch ms of this round. */
  now: number;
  /** The clock itself, for a check that waits (a ping) and must judge at the time it ends. */
  clock?: (() => number) | undefined;
  /** The process state letter from /proc/<pid>/stat (R, S, D, T, t, Z), or undefined when gone. */
  procState(pid: number): string | undefined;
  /** The latest resource sample of the tree rooted at `pid`. */
  sample(pid: number | undefined): ResourceSample | undefined;
  /** The supervisor's sampling interval, ms: a sample's CPU% is the average over the interval before its `at`. */
  sampleIntervalMs: number;
  /**
   * The average CPU% of the tree rooted at `pid` over as much sampled time after
   * `sinceMs` as is kept (at least one sampling interval), or undefined. Without it,
   * the latest sample alone is used.
   */
  cpuPercentSince?(pid: number, sinceMs: number): number | undefined;
}

/**
 * The CPU% of `pid` measured entirely after `sinceMs` (e.g. since the agent went
 * silent), averaged over the whole stall where the sampler keeps the rounds, or
 * undefined when no sample yet covers only time after it: a diagnosis must not call
 * a process idle from a sample taken before it hung.
 */
export function cpuSince(ctx: CheckContext, pid: number, sinceMs: number): number | undefined {
  if (ctx.cpuPercentSince) return ctx.cpuPercentSince(pid, sinceMs);
  const s = ctx.sample(pid);
  return s && s.at - sinceMs >= ctx.sampleIntervalMs ? s.cpuPercent : undefined;
}

/**
 * One health check. The HealthChecker calls `evaluate` for every target every
 * `intervalMs`, and `observe` (when present) after every resource sampling round.
 */
export interface HealthCheck {
  readonly name: CheckName;
  /** How often the check runs, ms. */
  readonly intervalMs: number;
  /** Feeds per-sample data (CPU, RSS) between evaluations. */
  observe?(targets: readonly Target[], ctx: CheckContext): void;
  evaluate(target: Target, ctx: CheckContext): CheckResult | Promise<CheckResult>;
  /** The target is gone (a finished per_task process): drop its state. */
  forget?(targetId: string): void;
}

/** A result with no findings. */
export const ok = (summary: string, measurements?: Record<string, number>): CheckResult => ({ status: 'healthy', summary, findings: [], measurements });
export const skipped = (summary: string): CheckResult => ({ status: 'skipped', summary, findings: [] });

/** A result whose status is the worst severity among `findings` (healthy when none). */
export function resultOf(summary: string, findings: Finding[], measurements?: Record<string, number>): CheckResult {
  const status = findings.reduce<Verdict>((v, f) => worst(v, f.severity), 'healthy');
  return { status, summary, findings, measurements };
}
