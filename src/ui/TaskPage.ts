import { useEffect, useState } from 'preact/hooks';
import { get, post } from './api.js';
import type { ConfirmRequest } from './Confirm.js';
import { Badge } from './Fleet.js';
import { when } from './format.js';
import { html } from './html.js';
import type { TaskWithHistory } from './types.js';

const usd = (n: number | undefined) => (n === undefined ? '–' : `$${n.toFixed(4)}`);

/** One task: its fields, LLM usage, every attempt with its cause, the operator's retries; Cancel and Retry as the CLI's `cancel` and `retry`. */
export function TaskPage({ id, version, ask }: { id: string; version: string; ask: (r: ConfirmRequest) => void }) {
  const [task, setTask] = useState<TaskWithHistory | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    get<{ task: TaskWithHistory }>(`/api/v1/tasks/${encodeURIComponent(id)}`)
      .then((r) => { if (live) { setTask(r.task); setError(null); } })
      .catch((err: Error) => { if (live) setError(err.message); });
    return () => { live = false; };
  }, [id, version]);
  if (error) return html`<section><h2>Task ${id}</h2><p role="alert">${error}</p></section>`;
  if (!task) return html`<section><h2>Task ${id}</h2><p>Loading…</p></section>`;
  const path = `/api/v1/tasks/${encodeURIComponent(task.id)}`;
  const cancel = (): ConfirmRequest => ({ title: `Cancel ${task.id}`, detail: `Cancel task ${task.id} (${task.status})? A running attempt is ended.`, confirmLabel: 'Cancel task',
    run: async () => { await post(`${path}/cancel`); return `Task ${task.id} cancelled.`; } });
  const retry = (): ConfirmRequest => ({ title: `Retry ${task.id}`, detail: `Put task ${task.id} (${task.status}) back in the queue with its attempts reset? Its history is kept.`, confirmLabel: 'Retry task',
    run: async () => { await post(`${path}/retry`, { reason: 'retried from the web dashboard' }); return `Task ${task.id} is pending again.`; } });
  const llm = task.llm;
  return html`<section aria-labelledby="task-title">
    <h2 id="task-title">Task ${task.id}</h2>
    <p><${Badge} value=${task.status} /> ${task.title}</p>
    <div class="buttons">
      ${task.status === 'pending' || task.status === 'in_progress' ? html`<button type="button" onClick=${() => ask(cancel())}>Cancel task</button>` : null}
      ${task.status === 'failed' || task.status === 'cancelled' ? html`<button type="button" onClick=${() => ask(retry())}>Retry task</button>` : null}
    </div>
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
      <dt>LLM usage</dt><dd>${llm ? `${llm.num_turns ?? '–'} turns, ${usd(llm.total_cost_usd)}${llm.estimated ? ' (estimated)' : ''}` : '–'}</dd>
    </dl>
    <h3>Attempts</h3>
    <div class="scroll"><table>
      <thead><tr><th scope="col">#</th><th scope="col">Agent</th><th scope="col">Started</th><th scope="col">Ended</th><th scope="col">Cause</th><th scope="col">Detail</th></tr></thead>
      <tbody>${task.attempt_history.map((a) => html`<tr key=${a.n}><th scope="row">${a.n}</th><td>${a.agent ?? '–'}${a.replica !== null ? `-${a.replica}` : ''}</td>
        <td>${when(a.started_at)}</td><td>${when(a.ended_at)}</td><td>${a.cause ? html`<${Badge} value=${a.cause} />` : 'running'}</td><td class="reason">${a.detail ?? ''}</td></tr>`)}</tbody>
    </table></div>
    ${task.retries.length ? html`<h3>Retries</h3><ul>${task.retries.map((r) => html`<li>${when(r.at)}: ${r.detail} (was ${r.previous_status} after ${r.attempts_before} attempts)</li>`)}</ul>` : null}
  </section>`;
}
