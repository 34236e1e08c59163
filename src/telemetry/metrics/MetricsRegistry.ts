import { VERSION } from '../../version.js';
import type { MetricGroup } from './define.js';
import { ScrapeSnapshot } from './ScrapeSnapshot.js';
import { registerAgentMetrics } from './agentMetrics.js';
import { CustomMetrics, type CustomMetricsLimits, type CustomMetricsProblem } from './customMetrics.js';
import { ControllerMetrics, type ControllerAction, type ControllerResult } from './controllerMetrics.js';
import { ExpositionRegistry, renderAs, type ExpositionFormat } from './exposition.js';
import { HealthValues, healthValue, type CircuitLevel, type HealthCheckName, type HealthLevel } from './healthMetrics.js';
import { registerHostMetrics } from './hostMetrics.js';
import { registerLlmMetrics } from './llmMetrics.js';
import { registerRunMetrics } from './runMetrics.js';
import { registerSelfMetrics } from './selfMetrics.js';
import { SlotMap } from './slots.js';
import type { SupervisorView } from './source.js';
import { SystemMetrics } from './systemMetrics.js';
import { TaskMetrics, type RejectReason } from './taskMetrics.js';

export interface MetricsRegistryOptions {
  /** The supervisor to observe. Without one, only the host, controller and self metrics exist (a standalone controller). */
  sup?: SupervisorView | undefined;
  /** Directories whose filesystems `agentic_disk_*_bytes` report, e.g. the state and log directories. Default none. */
  diskPaths?: readonly string[] | undefined;
  /** Include prom-client's process_* and nodejs_* metrics. Default true. */
  defaultMetrics?: boolean | undefined;
  /** The version `agentic_build_info` reports. Default: package.json's. */
  version?: string | undefined;
  /** Background failures (e.g. the queue could not be read during a scrape). Default: ignored. */
  onError?: ((err: Error) => void) | undefined;
  /** Bounds on the agents' own metrics. Default CUSTOM_METRICS_LIMITS (500 series per process, 10,000 in all). */
  customMetricsLimits?: Readonly<CustomMetricsLimits> | undefined;
  /** A refused agent metric or dropped series, told once per process, problem and metric (for a log line). Default: ignored. */
  onCustomMetricsProblem?: ((p: CustomMetricsProblem) => void) | undefined;
}

/**
 * Every metric of docs/metrics.md on one registry of its own (never prom-client's
 * global one), plus the calls through which the health, recovery and controller
 * layers report what only they know. Agent, queue and host gauges are read from
 * the supervisor when scraped; counters come from the supervisor's events.
 *
 * Slots are the supervisor's ids: a service replica's `slot` (`qaa-0`), or
 * `<agent>:<task id>` for a running per_task process. The `set*` calls return false
 * (and record nothing) for a slot that does not exist, or no longer does.
 */
export class MetricsRegistry {
  /** Register further metrics here (`registers: [metrics.registry]`); it renders in both formats. */
  readonly registry = new ExpositionRegistry();
  /** The recovery controller's counters and decision-time histogram. */
  readonly controller: ControllerMetrics;
  private readonly health: HealthValues | undefined;
  private readonly system: SystemMetrics | undefined;
  private readonly tasks: TaskMetrics | undefined;
  /** The agents' own metrics (protocol `metrics` messages); undefined without a supervisor. */
  readonly custom: CustomMetrics | undefined;
  private readonly recordRender: (format: ExpositionFormat, seconds: number) => void;
  private readonly groups: MetricGroup[] = [];
  private readonly snapshot = new ScrapeSnapshot();
  private seededAgents = -1;

  constructor(private readonly opts: MetricsRegistryOptions = {}) {
    const { sup } = opts;
    // Registration order is exposition order: agents, tasks, system, LLM, runs, controller, self; then the
    // agents' own metrics, whose families come and go with the processes that report them.
    if (sup) {
      const slots = new SlotMap(sup, this.snapshot);
      const agents = registerAgentMetrics(this.registry, sup, slots);
      this.groups.push(agents);
      this.health = new HealthValues(this.registry, sup, slots);
      this.tasks = new TaskMetrics(this.registry, sup, this.snapshot, opts.onError ?? (() => undefined));
      this.system = new SystemMetrics(this.registry, sup, this.snapshot);
      this.groups.push(this.tasks, this.system, registerLlmMetrics(this.registry, sup), registerRunMetrics(this.registry, sup));
      this.custom = new CustomMetrics(this.registry, sup, slots, this.snapshot, { protocolError: agents.protocolError, problem: opts.onCustomMetricsProblem }, opts.customMetricsLimits);
      this.groups.push(this.custom);
    }
    registerHostMetrics(this.registry, opts.diskPaths ?? []);
    this.controller = new ControllerMetrics(this.registry);
    this.recordRender = registerSelfMetrics(this.registry, { version: opts.version ?? VERSION, defaultMetrics: opts.defaultMetrics ?? true, sup });
    this.seed();
  }

  /** The exposition in `format`; records its own render time in `agentic_metrics_render_seconds`. */
  async render(format: ExpositionFormat): Promise<string> {
    const t0 = performance.now();
    this.seed();
    const text = await this.snapshot.during(async () => {
      await Promise.all(this.groups.map((g) => g.prepare?.()));
      return renderAs(this.registry, format);
    });
    this.recordRender(format, (performance.now() - t0) / 1000);
    return text;
  }

  /** `agentic_agent_health_status{check}` of a slot. @throws RangeError for an unknown check or level. */
  setHealth(slot: string, check: HealthCheckName, level: HealthLevel): boolean {
    return this.health?.setHealth(slot, check, level) ?? false;
  }

  /** `agentic_agent_memory_growth_bytes_per_second` of a slot (may be negative). @throws RangeError when not finite. */
  setMemoryGrowth(slot: string, bytesPerSecond: number): boolean {
    return this.health?.setGrowth(slot, bytesPerSecond) ?? false;
  }

  /**
   * `agentic_agent_circuit_state` of a slot: 0 closed, 1 half-open, 2 open. Only
   * used when the supervisor's restart policy cannot report its breaker itself
   * (`BackoffRestartPolicy` can, and then wins). @throws RangeError for another value.
   */
  setCircuitState(slot: string, level: CircuitLevel): boolean {
    return this.health?.setCircuit(slot, level) ?? false;
  }

  /** `agentic_system_health`: 0 healthy (the default), 1 degraded, 2 unhealthy. @throws RangeError for another value. */
  setSystemHealth(level: HealthLevel): void {
    this.system?.setHealth(healthValue(level));
  }

  /** Counts a refused submission in `agentic_tasks_rejected_total` (role recorded empty for `unknown_role`). */
  taskRejected(role: string, reason: RejectReason): void {
    this.tasks?.rejectedSubmission(role, reason);
  }

  /** Shorthand for `controller.action()`: `agentic_controller_actions_total`. */
  controllerAction(action: ControllerAction, result: ControllerResult): void {
    this.controller.action(action, result);
  }

  /** Detaches from the supervisor's events. Idempotent. */
  close(): void {
    for (const g of this.groups.splice(0)) g.close();
  }

  /** Creates the series that start at 0 for the agents that exist now (the supervisor creates them in `start()`). */
  private seed(): void {
    const sup = this.opts.sup;
    const agents = sup ? sup.replicas.length + sup.perTask.length : 0;
    if (agents === this.seededAgents) return;
    this.seededAgents = agents;
    for (const g of this.groups) g.seed();
  }
}
