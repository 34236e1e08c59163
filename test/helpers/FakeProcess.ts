import { EventEmitter } from 'node:events';
import type { ExitInfo, ProcessEvents, ProcessHandle } from '../../src/supervisor/AgentProcess.js';
import type { SupervisorMessage } from '../../src/protocol/messages.js';

let nextPid = 50_000;

/**
 * A fake agent process for lifecycle unit tests with fake timers: a real process
 * cannot run under a fake clock. Integration tests use real processes.
 */
export class FakeProcess extends EventEmitter<ProcessEvents> implements ProcessHandle {
  readonly pid = nextPid++;
  readonly startedAt = Date.now();
  readonly procStartTime = 1;
  readonly sent: SupervisorMessage[] = [];
  hasExited = false;
  stopCalls: string[] = [];
  /** Signals sent to the process group, in order. */
  readonly signals: NodeJS.Signals[] = [];
  /** Called for each group signal (a test makes the fake exit on SIGTERM or SIGKILL). */
  onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  private resolveExit!: (i: ExitInfo) => void;
  private readonly exited = new Promise<ExitInfo>((r) => { this.resolveExit = r; });

  send(msg: SupervisorMessage): boolean {
    if (this.hasExited) return false;
    this.sent.push(msg);
    return true;
  }
  signalGroup(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    this.onSignal?.(signal);
  }
  async stop(_timeoutMs: number, reason: string): Promise<ExitInfo> {
    this.stopCalls.push(reason);
    this.exit({ code: null, signal: 'SIGTERM' });
    return this.exited;
  }
  async reapGroup(): Promise<void> {}
  waitExit(): Promise<ExitInfo> {
    return this.exited;
  }
  /** Simulates the process ending. */
  exit(info: ExitInfo): void {
    if (this.hasExited) return;
    this.hasExited = true;
    this.emit('exit', info);
    this.resolveExit(info);
  }
}
