import { fmtBytes, fmtDuration } from '../format.js';
import { describeState, describeTask, type StateText } from './agentState.js';
import { fit, type Paint } from './ansi.js';
import { healthOf } from './health.js';
import type { AgentStatus, HealthView } from './model.js';

type Key = 'name' | 'status' | 'cpu' | 'ram' | 'restarts' | 'uptime' | 'task';

interface Column {
  key: Key;
  header: string;
  align: 'left' | 'right';
  /** Columns are dropped from the highest number down when the terminal is too narrow. */
  drop: number;
}

const COLUMNS: readonly Column[] = [
  { key: 'name', header: 'AGENT', align: 'left', drop: 0 },
  { key: 'status', header: 'STATUS', align: 'left', drop: 0 },
  { key: 'cpu', header: 'CPU', align: 'right', drop: 2 },
  { key: 'ram', header: 'RAM', align: 'right', drop: 3 },
  { key: 'restarts', header: 'RESTARTS', align: 'right', drop: 5 },
  { key: 'uptime', header: 'UPTIME', align: 'right', drop: 6 },
  { key: 'task', header: 'TASK', align: 'left', drop: 4 },
];
const GAP = '  ';
const TASK_MIN = 8;

/**
 * The row label, as every surface names it: the replica id of a service replica
 * (`qaa-0`, `saa-0`), the agent's name for a per_task agent (`deva_ts`, whose row
 * stands for all its slots). `all` is kept for callers; the name no longer depends on it.
 */
export function rowName(a: AgentStatus, _all?: readonly AgentStatus[]): string {
  return a.replica;
}

interface Cells extends Record<Exclude<Key, 'status'>, string> {
  status: StateText;
}

function cells(a: AgentStatus, all: readonly AgentStatus[], health: HealthView | undefined, now: number): Cells {
  return {
    name: rowName(a, all),
    status: describeState(a, healthOf(health, a), now),
    cpu: a.cpu_percent === null ? '-' : `${Math.round(a.cpu_percent)}%`,
    ram: fmtBytes(a.rss_bytes),
    restarts: String(a.restarts),
    uptime: fmtDuration(a.uptime_seconds),
    task: describeTask(a),
  };
}

export interface AgentTable {
  header: string;
  rows: string[];
}

/**
 * The agent table laid out for `cols` columns: every column that fits, TASK
 * taking what is left. Narrow terminals lose UPTIME, then RESTARTS, then TASK,
 * RAM and CPU; AGENT and STATUS always stay.
 */
export function agentTable(agents: readonly AgentStatus[], health: HealthView | undefined, cols: number, p: Paint, now: number): AgentTable {
  const data = agents.map((a) => cells(a, agents, health, now));
  const text = (c: Cells, k: Key) => (k === 'status' ? c.status.text : c[k]);
  const widthOf = (col: Column) => Math.max(col.header.length, ...data.map((d) => text(d, col.key).length));
  let shown = [...COLUMNS];
  const need = (cs: Column[]) => cs.reduce((n, c) => n + (c.key === 'task' ? TASK_MIN : widthOf(c)), 0) + GAP.length * (cs.length - 1);
  while (need(shown) > cols && shown.some((c) => c.drop > 0)) {
    const worst = shown.reduce((a, b) => (b.drop > a.drop ? b : a));
    shown = shown.filter((c) => c !== worst);
  }
  const widths = new Map<Key, number>();
  for (const c of shown) widths.set(c.key, c.key === 'task' ? TASK_MIN : widthOf(c));
  if (widths.has('task')) widths.set('task', Math.max(TASK_MIN, cols - (need(shown) - TASK_MIN)));
  else if (!shown.some((c) => c.drop > 0)) {
    // only AGENT and STATUS: share what there is, STATUS keeps at least its text where possible
    const name = Math.min(widths.get('name') ?? 0, Math.max(5, cols - GAP.length - (widths.get('status') ?? 0)));
    widths.set('name', name);
    widths.set('status', Math.max(1, cols - GAP.length - name));
  }
  const line = (f: (c: Column, w: number) => string) => shown.map((c) => f(c, widths.get(c.key) ?? 0)).join(GAP);
  return {
    header: line((c, w) => fit(c.header, w, c.align)),
    rows: data.map((d) => line((c, w) => (c.key === 'status' ? p.tone(fit(d.status.text, w), d.status.tone) : fit(d[c.key], w, c.align)))),
  };
}
