import { EventEmitter } from 'node:events';
import type { AgentConfig } from '../config/schema.js';
import type { AgentMessage } from '../protocol/messages.js';
import type { Task } from '../queue/Task.js';
import type { AdapterEvent, StdoutAdapter } from './adapters/StdoutAdapter.js';
import { AgentProcess, type ExitInfo, type SpawnSpec } from './AgentProcess.js';
import { expandArgv } from './argvTemplate.js';

/** One running per_task process. */
export interface TaskRun {
  task: Task;
  /** The run's slot index, "0" … max_concurrent-1: the `replica` label of its logs and metrics. */
  slot: string;
  proc: AgentProcess;
  startedAt: number;
  lastOutputAt: number;
  turns: number;
  lastMessage: string | null;
  result: Extract<AdapterEvent, { kind: 'result' }> | undefined;
}

interface Events {
  started: [TaskRun];
  adapter: [TaskRun, AdapterEvent];
  message: [TaskRun, AgentMessage];
  output: [TaskRun, 'stdout' | 'stderr', string];
  protocolError: [TaskRun, string, string];
  finished: [TaskRun, ExitInfo];
}

/**
 * A per_task agent: one process per task from a command template, at most
 * `max_concurrent` at once. Exit code 0 means the task is done.
 */
export class PerTaskAgent extends EventEmitter<Events> {
  readonly runs = new Map<string, TaskRun>();
  stopping = false;

  constructor(
    readonly config: AgentConfig,
    private readonly spec: (run: { task: Task }) => Omit<SpawnSpec, 'argv'>,
    private readonly adapterFactory: () => StdoutAdapter | undefined,
  ) {
    super();
  }

  get role(): string {
    return this.config.role ?? this.config.name;
  }

  get hasCapacity(): boolean {
    return !this.stopping && this.runs.size < this.config.max_concurrent;
  }

  run(task: Task): TaskRun {
    const argv = expandArgv(this.config.command, { prompt: task.prompt ?? task.title, task_id: task.id, title: task.title });
    const proc = new AgentProcess({ ...this.spec({ task }), argv });
    const now = Date.now();
    const run: TaskRun = { task, slot: this.freeSlot(), proc, startedAt: now, lastOutputAt: now, turns: 0, lastMessage: null, result: undefined };
    this.runs.set(task.id, run);
    const adapter = this.adapterFactory();
    proc.on('stdout', (line) => {
      run.lastOutputAt = Date.now();
      this.emit('output', run, 'stdout', line);
      for (const ev of adapter?.onLine(line) ?? []) {
        if (ev.kind === 'progress') {
          run.turns = ev.turns;
          run.lastMessage = ev.message;
        } else if (ev.kind === 'result') run.result = ev;
        this.emit('adapter', run, ev);
      }
    });
    proc.on('stdoutOversized', (bytes, sample) => {
      run.lastOutputAt = Date.now();
      const line = { bytes, limit: this.config.max_result_bytes, head: sample?.head.toString('utf8') ?? '', tail: sample?.tail.toString('utf8') ?? '' };
      const events: AdapterEvent[] = adapter?.onOversizedLine?.(line) ?? [{ kind: 'oversized', bytes, limit: line.limit, standIn: {} }];
      for (const ev of events) {
        if (ev.kind === 'result') run.result = ev;
        this.emit('adapter', run, ev);
      }
    });
    proc.on('stderr', (line) => {
      run.lastOutputAt = Date.now();
      this.emit('output', run, 'stderr', line);
    });
    proc.on('message', (m) => {
      run.lastOutputAt = Date.now();
      this.emit('message', run, m);
    });
    proc.on('protocolError', (r, d) => this.emit('protocolError', run, r, d));
    proc.on('exit', (info) => {
      this.runs.delete(task.id);
      void proc.reapGroup();
      this.emit('finished', run, info);
    });
    this.emit('started', run);
    return run;
  }

  /** The lowest slot index no running run holds. */
  private freeSlot(): string {
    const used = new Set([...this.runs.values()].map((r) => r.slot));
    let i = 0;
    while (used.has(String(i))) i++;
    return String(i);
  }

  async stopAll(reason: string): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.runs.values()].map((r) => r.proc.stop(this.config.stop_timeout * 1000, reason)));
  }

  async cancel(taskId: string, reason: string): Promise<boolean> {
    const run = this.runs.get(taskId);
    if (!run) return false;
    await run.proc.stop(this.config.stop_timeout * 1000, reason);
    return true;
  }
}
