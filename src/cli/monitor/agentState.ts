import { lastProgressText } from '../../health/format.js';
import type { Tone } from './ansi.js';
import type { AgentHealth, AgentStatus } from './model.js';

export interface StateText {
  text: string;
  tone: Tone;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `10:42:07` in the terminal's local time. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Whole seconds until `iso`, rounded up (a restart 3.2 s away is "in 4s"), never negative. */
function secondsUntil(iso: string | null, now: number): number | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.ceil((t - now) / 1000));
}

/** `4s`, `2m05s`, `1h03m`: short durations for the state column. */
export function shortDuration(s: number): string {
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad2(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${pad2(Math.floor((s % 3600) / 60))}m`;
}

/**
 * What the STATUS column says about a replica, and its colour:
 * running, busy, idle, unhealthy, starting, stopping, stopped,
 * `restarting in 4s`, `circuit open until 10:42:07`, failed.
 * A process that is up but judged unhealthy by the health checks says so;
 * one judged degraded keeps its word, in yellow (the details say why).
 */
export function describeState(a: AgentStatus, health: AgentHealth | undefined, now: number): StateText {
  switch (a.state) {
    case 'backoff': {
      const s = secondsUntil(a.restart_at, now);
      return { text: s === undefined ? 'restarting' : s === 0 ? 'restarting now' : `restarting in ${shortDuration(s)}`, tone: 'warn' };
    }
    case 'circuit_open': {
      const t = a.restart_at ? Date.parse(a.restart_at) : NaN;
      return { text: Number.isNaN(t) ? 'circuit open' : `circuit open until ${clockTime(t)}`, tone: 'bad' };
    }
    case 'failed':
      return { text: 'failed', tone: 'bad' };
    case 'starting':
    case 'stopping':
      return { text: a.state, tone: 'warn' };
    case 'stopped':
      return { text: 'stopped', tone: 'dim' };
    case 'idle':
      return { text: 'idle', tone: 'plain' };
    case 'running': {
      if (health?.verdict === 'unhealthy') return { text: 'unhealthy', tone: 'bad' };
      // degraded (e.g. just restarted after a crash, or near a limit): still working, in yellow
      const tone = health?.verdict === 'degraded' ? 'warn' : 'ok';
      if (a.mode === 'per_task') return { text: `running ${a.concurrency?.running ?? 1}/${a.concurrency?.max ?? 1}`, tone };
      return { text: a.task ? 'busy' : 'running', tone };
    }
    default:
      return { text: a.state, tone: 'dim' };
  }
}

/** The task cell: `STORY_42 50% halfway`, or `-`. per_task roles list their running tasks. */
export function describeTask(a: AgentStatus): string {
  if (a.mode === 'per_task' && a.concurrency && a.concurrency.tasks.length > 1) return a.concurrency.tasks.join(', ');
  if (!a.task) return '-';
  const pct = a.task.progress !== null ? ` ${Math.round(a.task.progress * 100)}%` : '';
  const quiet = a.task.last_progress_seconds !== undefined ? ` (${lastProgressText(a.task.last_progress_seconds)})` : '';
  return `${a.task.id}${pct}${a.task.message ? ` ${a.task.message}` : ''}${quiet}`;
}

/** `crash: killed by SIGKILL` from a last exit, without saying the same thing twice. */
export function exitSummary(e: AgentStatus['last_exit']): string {
  if (!e) return 'exited';
  const how = e.signal ? `killed by ${e.signal}` : e.code !== null ? `exit code ${e.code}` : '';
  if (!how || e.reason.includes(how) || (e.code !== null && e.reason.includes(`code ${e.code}`))) return e.reason;
  return `${e.reason}: ${how}`;
}
