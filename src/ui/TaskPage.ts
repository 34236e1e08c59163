import { useEffect, useState } from 'preact/hooks';
import { get, post } from './api.js';
import type { ConfirmRequest } from './Confirm.js';
import { Badge } from './Fleet.js';
import { when } from './format.js';
import { html } from './html.js';
import { TaskLog } from './TaskLog.js';
import type { AttemptRecord, TaskWithHistory } from './types.js';

const usd = (n: number | undefined) => (n === undefined ? '–' : `$${n.toFixed(4)}`);
type Llm = NonNullable<AttemptRecord['llm']>;
const tokens = (u: Llm['usage']) => (u ? `${u.input_tokens ?? 0} in, ${u.output_tokens ?? 0} out, ${(u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0)} cache` : '');
const usage = (l: Llm | null) => (l ? `${l.num_turns ?? '–'} turns, ${usd(l.total_cost_usd)}${l.estimated ? ' (estimated)' : ''}${l.usage ? `; tokens ${tokens(l.usage)}` : ''}` : '–');

/** The LLM usage of every attempt added up (each attempt's own `result`), as the task's story cost. */
function totalUsage(attempts: readonly AttemptRecord[]): { runs: number; cost: number; turns: number; estimated: boolean } {
  const runs = attempts.filter((a) => a.llm);
  return { runs: runs.length, cost: runs.reduce((s, a) => s + (a.llm?.total_cost_usd ?? 0), 0), turns: runs.reduce((s, a) => s + (a.llm?.num_turns ?? 0), 0), estimated: runs.some((a) => a.llm?.estimated) };
}

/** A pending task's new priority (1..10), asked for behind the same confirmation as Cancel and Retry. */
function PriorityForm({ current, onChange }: { current: number; onChange: (to: number) => void }) {
  const [to, setTo] = useState(current);
  useEffect(() => setTo(current), [current]);
  return html`<form class="buttons priority" onSubmit=${(e: Event) => { e.preventDefault(); onChange(to); }}>
    <label for="priority-select">New priority (1 lowest, 10 highest)</label>
    <select id="priority-select" value=${to} onChange=${(e: Event) => setTo(Number((e.target as HTMLSelectElement).value))}>
      ${[10, 9, 8, 7, 6, 5, 4, 3, 2, 1].map((n) => html`<option value=${n}>${n}${n === current ? ' (now)' : ''}</option>`)}
    </select>
    <button type="submit" disabled=${to === current}>Change priority</button>
  </form>`;
}

/** One task: its fields, LLM usage, every attempt with its cause and usage, the operator's retries, its logs and transcript; Cancel, Retry and Change priority as the CLI's `cancel`, `retry` and `priority`. */
export function TaskPage({ id, version, ask }: { id: string; version: string; ask: (r: ConfirmRequest) => void }) {
  const [task, setTask] = useState<TaskWithHistory | null>(null);
  const [error, setError] = useState<string | null>(null);
  // read again on every live update, and at once after an action of this page
  const [acted, setActed] = useState(0);
  useEffect(() => {
    let live = true;
    get<{ task: TaskWithHistory }>(`/api/v1/tasks/${encodeURIComponent(id)}`)
      .then((r) => { if (live) { setTask(r.task); setError(null); } })
      .catch((err: Error) => { if (live) setError(err.message); });
    return () => { live = false; };
  }, [id, version, acted]);
  if (error) return html`<section><h2>Task ${id}</h2><p role="alert">${error}</p></section>`;
  if (!task) return html`<section><h2>Task ${id}</h2><p>Loading…</p></section>`;
  const path = `/api/v1/tasks/${encodeURIComponent(task.id)}`;
  const act = async (action: string, body?: unknown) => {
    await post(`${path}/${action}`, body);
    setActed((n) => n + 1);
  };
  const cancel = (): ConfirmRequest => ({ title: `Cancel ${task.id}`, detail: `Cancel task ${task.id} (${task.status})? A running attempt is ended.`, confirmLabel: 'Cancel task',
    run: async () => { await act('cancel'); return `Task ${task.id} cancelled.`; } });
  const retry = (): ConfirmRequest => ({ title: `Retry ${task.id}`, detail: `Put task ${task.id} (${task.status}) back in the queue with its attempts reset? Its history is kept.`, confirmLabel: 'Retry task',
    run: async () => { await act('retry', { reason: 'retried from the web dashboard' }); return `Task ${task.id} is pending again.`; } });
  const reprioritise = (to: number): ConfirmRequest => ({ title: `Re-prioritise ${task.id}`, detail: `Change the priority of pending task ${task.id} from ${task.priority} to ${to}? Higher runs first.`, confirmLabel: 'Change priority',
    run: async () => { await act('priority', { priority: to }); return `Task ${task.id} now has priority ${to}.`; } });
  const llm = task.llm;
  const total = totalUsage(task.attempt_history);
  const running = task.status === 'pending' || task.status === 'in_progress';
  return html`<section aria-labelledby="task-title">
    <h2 id="task-title">Task ${task.id}</h2>
    <p><${Badge} value=${task.status} /> ${task.title}</p>
    <div class="buttons">
      ${task.status === 'pending' || task.status === 'in_progress' ? html`<button type="button" onClick=${() => ask(cancel())}>Cancel task</button>` : null}
      ${task.status === 'failed' || task.status === 'cancelled' ? html`<button type="button" onClick=${() => ask(retry())}>Retry task</button>` : null}
    </div>
    ${task.status === 'pending' ? html`<${PriorityForm} current=${task.priority} onChange=${(to: number) => ask(reprioritise(to))} />` : null}
    <dl class="facts">
      <dt>Role</dt><dd>${task.role}</dd>
      <dt>Priority</dt><dd>${task.priority}</dd>
      <dt>Attempts used</dt><dd>${task.attempts}</dd>
      <dt>Assigned to</dt><dd>${task.assigned_to ?? '–'}</dd>
      <dt>Created</dt><dd>${when(task.created_at)}</dd>
      <dt>Finished</dt><dd>${when(task.finished_at)}</dd>
      <dt>Correlation id</dt><dd><code>${task.correlation_id}</code></dd>
      <dt>Progress</dt><dd>${task.progress !== null ? `${Math.round(task.progress * 100)}%` : '–'} ${task.progress_message ?? ''}</dd>
      <dt>Error</dt><dd class="reason">${task.error ?? '–'}</dd>
      <dt>LLM usage, last run</dt><dd>${usage(llm)}</dd>
      <dt>LLM usage, all attempts</dt><dd>${total.runs ? `${total.runs} run${total.runs === 1 ? '' : 's'}, ${total.turns} turns, ${usd(total.cost)}${total.estimated ? ' (partly estimated)' : ''}` : '–'}</dd>
    </dl>
    <h3>Attempts</h3>
    <div class="scroll"><table class="attempts">
      <thead><tr><th scope="col">#</th><th scope="col">Agent</th><th scope="col">Started</th><th scope="col">Ended</th><th scope="col">Cause</th><th scope="col">Detail</th><th scope="col">LLM usage</th></tr></thead>
      <tbody>${task.attempt_history.map((a) => html`<tr key=${a.n}><th scope="row">${a.n}</th><td>${a.agent ?? '–'}${a.replica !== null ? `-${a.replica}` : ''}</td>
        <td>${when(a.started_at)}</td><td>${when(a.ended_at)}</td><td>${a.cause ? html`<${Badge} value=${a.cause} />` : 'running'}</td><td class="reason">${a.detail ?? ''}</td><td>${a.llm ? usage(a.llm) : '–'}</td></tr>`)}</tbody>
    </table></div>
    ${task.retries.length ? html`<h3>Retries</h3><ul>${task.retries.map((r) => html`<li>${when(r.at)}: ${r.detail} (was ${r.previous_status} after ${r.attempts_before} attempts)</li>`)}</ul>` : null}
    <${TaskLog} id=${task.id} live=${running} refresh=${`${task.status}:${task.updated_at}`} />
  </section>`;
}
