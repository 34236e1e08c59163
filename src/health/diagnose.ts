import { dur, pct } from './format.js';

/** What the evidence says a process that is not making progress is doing. */
export type StallKind =
  /** The process is gone (no /proc entry). */
  | 'gone'
  /** Exited, not yet reaped. */
  | 'zombie'
  /** State T/t: SIGSTOP, a debugger, job control. */
  | 'stopped'
  /** A protocol agent sends neither heartbeats nor pongs: its event loop is not running. */
  | 'blocked_event_loop'
  /** Heartbeats and pongs arrive and the CPU is busy, but the task does not move. */
  | 'livelock'
  /** Heartbeats arrive, CPU is idle: waiting for something that does not come. */
  | 'idle_wait'
  /** No protocol: busy CPU with nothing to show for it. */
  | 'busy'
  /** No protocol: idle CPU, sleeping or in I/O. */
  | 'io_wait';

/** What is known about the process when a check finds it stuck or unresponsive. */
export interface StallFacts {
  /** /proc/<pid>/stat state letter; undefined when the process is gone. */
  procState: string | undefined;
  /** CPU of its process tree, percent of one core; undefined when not sampled yet. */
  cpuPercent: number | undefined;
  /** Below this CPU% the process is waiting, not computing (task_progress.idle_cpu_percent). */
  idleCpuPercent: number;
  /** Speaks the agent protocol (heartbeats and pongs apply). */
  protocol: boolean;
  /** Heartbeats are overdue or pings went unanswered. */
  unresponsive: boolean;
  /** How long the agent has been silent (last heartbeat or pong), ms, when unresponsive. */
  silentForMs?: number | undefined;
}

export interface Diagnosis {
  kind: StallKind;
  /** `process state S, CPU 0.0% — looks blocked waiting on I/O` */
  text: string;
}

const STATE_NAMES: Record<string, string> = { D: 'uninterruptible sleep', I: 'idle kernel thread' };

/**
 * Tells apart the ways a process can be stuck, from its /proc state, its CPU and
 * whether its heartbeats and pongs still arrive:
 * - state T: stopped (SIGSTOP), whatever else holds;
 * - protocol, silent: a blocked event loop (busy synchronous code when the CPU is busy,
 *   a synchronous wait when idle);
 * - protocol, heartbeats arriving, CPU busy: a livelock or infinite loop;
 * - protocol, heartbeats arriving, CPU idle: waiting for something that never comes;
 * - no protocol: busy, or blocked waiting on I/O.
 */
export function diagnose(f: StallFacts): Diagnosis {
  const st = f.procState;
  if (st === undefined) return { kind: 'gone', text: 'the process is gone' };
  if (st === 'Z') return { kind: 'zombie', text: 'process state Z — it has exited and is waiting to be reaped' };
  if (st === 'T' || st === 't') {
    return { kind: 'stopped', text: `process state ${st} (stopped, e.g. by SIGSTOP or a debugger) — it cannot run until it gets SIGCONT` };
  }
  const facts = `process state ${st}${STATE_NAMES[st] ? ` (${STATE_NAMES[st]})` : ''}, CPU ${pct(f.cpuPercent)}`;
  const known = f.cpuPercent !== undefined;
  const busy = known && (f.cpuPercent as number) > f.idleCpuPercent;
  if (f.protocol && f.unresponsive) {
    const silent = f.silentForMs !== undefined ? `no heartbeats or pongs for ${dur(f.silentForMs)}; ` : 'no heartbeats or pongs; ';
    const why = busy
      ? 'its event loop is blocked by busy synchronous code (an infinite loop?)'
      : st === 'D'
        ? 'its event loop is blocked in uninterruptible I/O (disk, NFS)'
        : known
          ? 'its event loop is blocked in a synchronous call that waits (I/O, a lock, a child process)'
          : 'its event loop is blocked';
    return { kind: 'blocked_event_loop', text: `${silent}${facts} — ${why}` };
  }
  if (f.protocol) {
    if (busy) return { kind: 'livelock', text: `${facts}, heartbeats still arrive — alive but stuck: looks like a livelock or an infinite loop` };
    return { kind: 'idle_wait', text: `${facts}, heartbeats still arrive — waiting idle: looks blocked waiting on I/O, a lock or a reply that never comes` };
  }
  if (busy) return { kind: 'busy', text: `${facts} — busy without output or progress: possibly an infinite loop` };
  return { kind: 'io_wait', text: `${facts} — looks blocked waiting on I/O` };
}
