import { EventEmitter } from 'node:events';
import { AgentProcess, type ExitInfo, type ProcessEvents, type ProcessHandle, type SpawnSpec } from './AgentProcess.js';

/**
 * A process that could not be started. Node's `spawn` throws synchronously for
 * some errors (E2BIG when the argv or environment is too long for the kernel,
 * EINVAL, ...) where it reports others (ENOENT, EACCES) as an `error` event; this
 * handle turns a throw into the same report: no pid, and an `exit` with
 * `spawnError`, on the next turn of the event loop.
 */
export class UnspawnedProcess extends EventEmitter<ProcessEvents> implements ProcessHandle {
  readonly pid = undefined;
  readonly startedAt = Date.now();
  readonly procStartTime = undefined;
  readonly hasExited = true;
  private readonly info: ExitInfo;
  private readonly exited: Promise<ExitInfo>;

  constructor(error: unknown) {
    super();
    const e = error as NodeJS.ErrnoException;
    this.info = { code: null, signal: null, spawnError: `${e.code ?? 'ERROR'}: ${e.message ?? String(error)}` };
    this.exited = new Promise((resolve) => setImmediate(() => {
      this.emit('exit', this.info);
      resolve(this.info);
    }));
  }

  send(): boolean {
    return false;
  }
  signalGroup(): void {}
  stop(): Promise<ExitInfo> {
    return this.exited;
  }
  async reapGroup(): Promise<void> {}
  waitExit(): Promise<ExitInfo> {
    return this.exited;
  }
}

/** Starts an agent process; never throws: a spawn that throws becomes an {@link UnspawnedProcess}. */
export function spawnProcess(spec: SpawnSpec): ProcessHandle {
  try {
    return new AgentProcess(spec);
  } catch (err) {
    return new UnspawnedProcess(err);
  }
}
