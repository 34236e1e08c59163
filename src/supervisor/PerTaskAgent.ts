import { EventEmitter } from 'node:events';
import type { AgentConfig } from '../config/schema.js';
import type { Task } from '../queue/Task.js';
import type { StdoutAdapter } from './adapters/StdoutAdapter.js';
import type { ProcessHandle, SpawnSpec } from './AgentProcess.js';
import { PerTaskRun, type RunTimers } from './PerTaskRun.js';
import type { RunEnding, StopReason } from './PerTaskRunState.js';
import type { PromptFiles } from './promptFiles.js';
import { runCommand, type RunCommand } from './runCommand.js';
import type { RunGuard } from './RunGuard.js';
import type { RunPolicy } from './RunPolicy.js';
import { checkSpawnable, type ArgvTooLongError } from './spawnLimits.js';
import { spawnProcess, UnspawnedProcess } from './spawnProcess.js';

export type { TaskRun } from './PerTaskRun.js';

/** What a per_task agent needs from its supervisor. */
export interface PerTaskHost {
  /** cwd, environment (with the task id and attempt) and line limit of a run in `slot`. */
  spawnSpec(task: Pick<Task, 'id' | 'attempt' | 'traceparent'>, slot: string): Omit<SpawnSpec, 'argv' | 'stdin'>;
  readonly promptFiles: PromptFiles;
  readonly policy: RunPolicy;
  readonly adapter: () => StdoutAdapter | undefined;
  /** A fresh guard (budgets, tool loops) for a run of `task` (its own limits win), or undefined when nothing is to be guarded. */
  readonly guard?: ((task: Task) => RunGuard | undefined) | undefined;
  /** Process factory (unit tests pass a fake); must not throw. */
  readonly createProcess?: ((spec: SpawnSpec) => ProcessHandle) | undefined;
  readonly timers?: RunTimers | undefined;
}

interface Events {
  /** A run's process was spawned for a task (state `spawned`; `proc` is set). Subscribe to the run's own events here. */
  started: [PerTaskRun, RunCommand];
  /** A run is over and has left `runs` (its slot is free). */
  finished: [PerTaskRun, RunEnding];
}

/**
 * A per_task agent: one {@link PerTaskRun} per task from a command template, at
 * most `max_concurrent` at once, each in the lowest free slot ("0", "1", …).
 */
export class PerTaskAgent extends EventEmitter<Events> {
  /** Running runs by task id. */
  readonly runs = new Map<string, PerTaskRun>();
  stopping = false;
  /** Stopped by an operator (`background stop <agent>`): starts no run until started again; its tasks wait in the queue. */
  stopped = false;

  private cfg: AgentConfig;

  constructor(config: AgentConfig, private readonly host: PerTaskHost) {
    super();
    this.cfg = config;
  }

  /** The agent's config its runs start with. */
  get config(): AgentConfig {
    return this.cfg;
  }

  /** A reload changed only keys that need no new process (`max_concurrent`): new runs follow the new config, running ones go on. */
  adopt(config: AgentConfig): void {
    this.cfg = config;
  }

  get role(): string {
    return this.config.role ?? this.config.name;
  }

  get hasCapacity(): boolean {
    return !this.stopping && !this.stopped && this.runs.size < this.config.max_concurrent;
  }

  /** The command a first run of `task` would get: undefined when it can be spawned, else why not. */
  checkSpawnable(task: { id: string; title: string; prompt: string | null }): ArgvTooLongError | undefined {
    const cmd = runCommand(this.config, task, { promptFilePath: this.host.promptFiles.pathOf(task.id) });
    const spec = this.host.spawnSpec({ id: task.id, attempt: 1, traceparent: null }, '0');
    return checkSpawnable(this.config.name, cmd.argv, spec.env);
  }

  /**
   * Starts a run of `task` in the lowest free slot; `sessionId` is the session an earlier
   * run stored for the task (resumed). A spawn that fails ends the run at once (never throws).
   */
  run(task: Task, sessionId?: string): PerTaskRun {
    const slot = this.freeSlot();
    const cmd = runCommand(this.config, task, { promptFilePath: this.host.promptFiles.pathOf(task.id), sessionId });
    let createProcess = this.host.createProcess ?? spawnProcess;
    if (cmd.promptFile !== undefined) {
      try {
        this.host.promptFiles.write(cmd.promptFile, task.prompt ?? task.title);
      } catch (err) {
        createProcess = () => new UnspawnedProcess(err);
      }
    }
    const run = new PerTaskRun({
      task, agent: this.config.name, slot, spec: { ...this.host.spawnSpec(task, slot), argv: cmd.argv, stdin: cmd.stdin },
      policy: this.host.policy, stopTimeoutMs: this.config.stop_timeout * 1000, adapter: this.host.adapter(), guard: this.host.guard?.(task), createProcess, timers: this.host.timers,
    });
    this.runs.set(task.id, run);
    run.once('exited', (ending) => {
      this.runs.delete(task.id);
      if (cmd.promptFile !== undefined) this.host.promptFiles.remove(cmd.promptFile);
      this.emit('finished', run, ending);
    });
    run.start(); // never throws; its process reports nothing before the next tick
    this.emit('started', run, cmd);
    return run;
  }

  /** The run in slot index `slot`, if one is running. */
  runInSlot(slot: string): PerTaskRun | undefined {
    return [...this.runs.values()].find((r) => r.slot === slot);
  }

  /** Ends every run (graceful `stop`): their tasks are released, not failed. */
  async stopAll(reason: string): Promise<void> {
    this.stopping = true;
    const detail = `the supervisor is stopping (${reason})`;
    await Promise.all([...this.runs.values()].map((r) => r.stop({ cause: 'supervisor_stopped', detail })));
  }

  /**
   * `background stop <agent>`: starts no new run and ends the running ones as a graceful
   * supervisor stop does (their tasks go back to the queue, no attempt used). Resolves once they have ended.
   */
  async stopRuns(detail: string): Promise<string[]> {
    this.stopped = true;
    const runs = [...this.runs.values()];
    await Promise.all(runs.map((r) => r.stop({ cause: 'supervisor_stopped', detail })));
    return runs.map((r) => r.slotId);
  }

  /** Ends the run of a cancelled task (its process group is killed). */
  async cancel(taskId: string): Promise<boolean> {
    const run = this.runs.get(taskId);
    if (!run) return false;
    await run.stop({ cause: 'cancelled', detail: 'the task was cancelled' });
    return true;
  }

  /**
   * `background restart`: ends every run, or the run in slot index `slot`. Their
   * tasks go back to the queue without using an attempt, and start again (resumed)
   * as slots free up. Returns the runs being ended; await their `ended`.
   */
  restart(detail: string, slot?: string): PerTaskRun[] {
    const targets = [...this.runs.values()].filter((r) => slot === undefined || r.slot === slot);
    const reason: StopReason = { cause: 'operator_restart', detail };
    for (const r of targets) void r.stop(reason);
    return targets;
  }

  /** The lowest slot index no running run holds. */
  private freeSlot(): string {
    const used = new Set([...this.runs.values()].map((r) => r.slot));
    let i = 0;
    while (used.has(String(i))) i++;
    return String(i);
  }
}
