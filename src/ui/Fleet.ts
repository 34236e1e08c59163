import { lastProgressText } from '../health/format.js';
import { fleetLine } from '../supervisor/fleetCounts.js';
import { post } from './api.js';
import type { ConfirmRequest } from './Confirm.js';
import { bytes, failing, healthOfRow, stateTone, VERDICT_MARK, worst, type Verdict } from './format.js';
import { html } from './html.js';
import { Sparkline } from './Sparkline.js';
import type { AgentStatus, UiSnapshot } from './types.js';

export type History = Map<string, { cpu: number[]; rss: number[] }>;

export function Badge({ value, label }: { value: string; label?: string }) {
  const mark = value in VERDICT_MARK ? `${VERDICT_MARK[value as Verdict]} ` : '';
  return html`<span class="badge ${stateTone(value)}">${mark}${label ?? value.replace('_', ' ')}</span>`;
}

type Action = 'restart' | 'reset' | 'stop' | 'start';
const ACTIONS: Record<Action, { label: string; detail: (t: string) => string; done: (t: string) => string }> = {
  restart: { label: 'Restart', detail: (t) => `Restart ${t}? Its process is stopped (SIGTERM, then SIGKILL) and started again; a task it holds goes back to the queue.`, done: (t) => `Restart of ${t} accepted.` },
  reset: { label: 'Reset breaker', detail: (t) => `Close the circuit breaker of ${t} by hand and start it again?`, done: (t) => `Breaker of ${t} reset.` },
  stop: { label: 'Stop', detail: (t) => `Stop ${t}? It stays stopped (no restart) until you start it; its tasks go back to the queue.`, done: (t) => `${t} stopped.` },
  start: { label: 'Start', detail: (t) => `Start ${t} again?`, done: (t) => `${t} started.` },
};

function actionRequest(action: Action, target: string): ConfirmRequest {
  const a = ACTIONS[action];
  return {
    title: `${a.label} ${target}`,
    detail: a.detail(target),
    confirmLabel: a.label,
    run: async () => {
      await post(`/api/v1/agents/${encodeURIComponent(target)}/${action}`);
      return a.done(target);
    },
  };
}

function Row({ a, snap, history, ask }: { a: AgentStatus; snap: UiSnapshot; history: History; ask: (r: ConfirmRequest) => void }) {
  const rows = healthOfRow(snap.health?.agents ?? [], a.agent, a.replica, a.mode);
  const verdict = rows.reduce<Verdict>((v, h) => worst(v, h.verdict), 'healthy');
  const finding = failing(rows.flatMap((h) => h.findings));
  const h = history.get(a.replica);
  const stopped = a.state === 'stopped';
  const task = a.task;
  return html`<tr data-replica=${a.replica}>
    <th scope="row">${a.replica}${a.replica !== a.agent ? html`<div class="muted">${a.agent}</div>` : null}</th>
    <td>${a.role}<div class="muted">${a.mode.replace('_', ' ')}</div></td>
    <td><${Badge} value=${a.state} /></td>
    <td class="verdict"><${Badge} value=${snap.health ? verdict : 'unknown'} />${finding ? html`<div class="reason"><strong>${finding.check}/${finding.kind}</strong>: ${finding.message}</div>` : null}</td>
    <td class="pid">${a.pid ?? '–'}</td>
    <td>${task ? html`<a href="#/task/${encodeURIComponent(task.id)}">${task.id}</a>${task.progress !== null ? ` ${Math.round(task.progress * 100)}%` : ''}
      <div class="muted">${task.message ?? ''}${task.last_progress_seconds !== undefined ? ` (${lastProgressText(task.last_progress_seconds)})` : ''}</div>` : '–'}
      ${a.runs?.length ? html`<ul class="runs">${a.runs.map((r) => html`<li><a href="#/task/${encodeURIComponent(r.task_id)}">${r.task_id}</a> on ${r.slot}: ${r.turns} turns${r.tokens !== null ? `, ${r.tokens} tokens` : ''}${r.cost_usd_estimated !== null ? `, about $${r.cost_usd_estimated.toFixed(4)} so far` : ''}</li>`)}</ul>` : null}
      ${a.last_run ? html`<div class="muted">last run ${a.last_run.task_id}: ${a.last_run.outcome}${a.last_run.cost_usd !== null ? `, $${a.last_run.cost_usd.toFixed(2)}` : ''}</div>` : null}</td>
    <td class="num">${a.restarts}</td>
    <td>${a.breaker ? html`<${Badge} value=${a.breaker} />` : '–'}</td>
    <td><${Sparkline} values=${h?.cpu ?? []} label=${a.cpu_percent === null ? '–' : `${a.cpu_percent}% CPU`} /></td>
    <td><${Sparkline} values=${h?.rss ?? []} label=${a.rss_bytes === null ? '–' : bytes(a.rss_bytes)} /></td>
    <td class="actions">
      <button type="button" onClick=${() => ask(actionRequest('restart', a.replica))} disabled=${stopped}>Restart<span class="sr-only"> ${a.replica}</span></button>
      ${a.breaker && a.breaker !== 'closed' ? html`<button type="button" onClick=${() => ask(actionRequest('reset', a.replica))}>Reset breaker<span class="sr-only"> ${a.replica}</span></button>` : null}
      ${stopped
        ? html`<button type="button" onClick=${() => ask(actionRequest('start', a.replica))}>Start<span class="sr-only"> ${a.replica}</span></button>`
        : html`<button type="button" onClick=${() => ask(actionRequest('stop', a.replica))}>Stop<span class="sr-only"> ${a.replica}</span></button>`}
    </td>
  </tr>`;
}

/** Every agent and replica, live: state, verdict with the failing check, task, restarts, breaker, CPU and RSS. */
export function Fleet({ snap, history, ask }: { snap: UiSnapshot; history: History; ask: (r: ConfirmRequest) => void }) {
  const sys = snap.health?.system;
  const q = snap.status.queue.by_status;
  return html`<section aria-labelledby="fleet-title">
    <div class="summary">
      <h2 id="fleet-title">Fleet</h2>
      <p>System: ${sys ? html`<${Badge} value=${sys.verdict} />` : html`<${Badge} value="unknown" label="health checks off" />`} ${fleetLine(snap.status.fleet)}</p>
      ${sys ? html`<p class="muted">Capacity: ${Object.entries(sys.capacity).map(([role, c]) => `${role} ${c.healthy}/${c.configured} healthy${c.busy ? `, ${c.busy} busy` : ''}`).join('; ')}</p>` : null}
      ${sys?.resources ? html`<p class="muted">Host: CPU ${sys.resources.cpu_percent ?? '–'}% of ${sys.resources.cores} cores, memory ${sys.resources.memory.used_percent}% used${sys.resources.disks.map((d) => `, disk ${d.used_percent}% of ${d.path}`).join('')}</p>` : null}
      ${sys?.findings.length ? html`<ul class="findings">${sys.findings.map((f) => html`<li><${Badge} value=${f.severity} /> ${f.message}</li>`)}</ul>` : null}
      <p class="muted">Queue: ${q.pending} pending, ${q.in_progress} in progress, ${q.completed} completed, ${q.failed} failed (dead letters), ${q.cancelled} cancelled</p>
    </div>
    <div class="scroll">
      <table class="fleet">
        <caption class="sr-only">Agents and replicas</caption>
        <thead><tr><th scope="col">Replica</th><th scope="col">Role</th><th scope="col">State</th><th scope="col">Health</th><th scope="col">PID</th><th scope="col">Task</th><th scope="col">Restarts</th><th scope="col">Breaker</th><th scope="col">CPU</th><th scope="col">RSS</th><th scope="col">Actions</th></tr></thead>
        <tbody>${snap.status.agents.map((a) => html`<${Row} key=${a.replica} a=${a} snap=${snap} history=${history} ask=${ask} />`)}</tbody>
      </table>
    </div>
  </section>`;
}
