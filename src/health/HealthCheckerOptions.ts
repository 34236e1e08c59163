import type { EventEmitter } from 'node:events';
import type { BackgroundConfig } from '../config/schema.js';
import type { ResourceSample } from '../supervisor/ResourceSampler.js';
import type { SupervisorEvents } from '../supervisor/Supervisor.js';
import type { SystemSnapshot } from './aggregate.js';
import type { DetectedFinding } from './FindingLedger.js';
import type { HealthLogger } from './logFindings.js';
import type { RestartWhen } from './UnhealthyRestarter.js';
import type { SystemResources } from './systemResources.js';
import type { HealthSource, Target } from './Target.js';
import type { CheckName, Finding, HealthCheck, Verdict } from './types.js';

/** What the HealthChecker reads: the supervisor, or a fake in tests. */
export type HealthCheckerSource = HealthSource
  & { readonly sampler: { get(pid: number | undefined): ResourceSample | undefined; cpuPercentSince?(pid: number, sinceMs: number, minSpanMs: number): number | undefined }; readonly ready?: boolean }
  & Partial<Pick<EventEmitter<SupervisorEvents>, 'on' | 'off'>>;

export interface HealthCheckerEvents {
  /** A new finding, or one whose severity changed. */
  finding: [{ target: Target | undefined; finding: DetectedFinding }];
  resolved: [{ target: Target | undefined; finding: DetectedFinding }];
  verdict: [{ target: Target; verdict: Verdict; previous: Verdict }];
  system: [{ verdict: Verdict; previous: Verdict; health: SystemSnapshot }];
  /** After every round of a check (metrics read the snapshot here). */
  evaluated: [CheckName | 'system'];
}

export interface HealthCheckerOptions {
  bg: Pick<BackgroundConfig, 'monitoring' | 'agents'>;
  source: HealthCheckerSource;
  logger?: HealthLogger | undefined;
  /** Default `Date.now`. */
  now?: (() => number) | undefined;
  /** Default: the state letter from /proc/<pid>/stat. */
  procState?: ((pid: number) => string | undefined) | undefined;
  /** Default: the enabled checks of the config. */
  checks?: HealthCheck[] | undefined;
  /** Host CPU, memory and disks (measured every check_interval). */
  system?: SystemResources | undefined;
  /** System findings the supervisor knows of itself (roles held by a spent LLM budget or an API rate limit), at each system round. */
  systemFindings?: ((now: number) => Finding[]) | undefined;
  /**
   * Called once per process for an unhealthy finding that warrants a restart (set when
   * recovery.restart_unhealthy); `when` is `after_task` for a drain first (a leak not yet urgent).
   */
  restart?: ((target: Target, finding: DetectedFinding, when: RestartWhen) => Promise<unknown>) | undefined;
}
