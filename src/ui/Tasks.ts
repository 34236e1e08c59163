import { useEffect, useState } from 'preact/hooks';
import { get } from './api.js';
import { Badge } from './Fleet.js';
import { ago } from './format.js';
import { html } from './html.js';
import type { StatusBody, TaskStatus, TaskWithHistory } from './types.js';

const STATUSES: TaskStatus[] = ['pending', 'in_progress', 'completed', 'failed', 'cancelled'];
const LABEL: Record<TaskStatus, string> = { pending: 'Pending', in_progress: 'In progress', completed: 'Completed', failed: 'Failed (dead)', cancelled: 'Cancelled' };

/** The queue: counts by status (the filter buttons) and the newest 100 tasks of the chosen status (GET /api/v1/tasks, as `background tasks`). */
export function Tasks({ queue, filter }: { queue: StatusBody['queue']; filter: TaskStatus | undefined }) {
  const [tasks, setTasks] = useState<TaskWithHistory[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const counts = queue.by_status;
  const key = JSON.stringify(counts);
  useEffect(() => {
    let live = true;
    get<{ tasks: TaskWithHistory[] }>(`/api/v1/tasks?limit=100${filter ? `&status=${filter}` : ''}`)
      .then((r) => { if (live) { setTasks(r.tasks); setError(null); } })
      .catch((err: Error) => { if (live) setError(err.message); });
    return () => { live = false; };
  }, [filter, key]);
  return html`<section aria-labelledby="tasks-title">
    <h2 id="tasks-title">Queue and tasks</h2>
    <div role="group" aria-label="Filter by status" class="filters">
      <a class="filter" href="#/tasks" aria-current=${filter ? undefined : 'page'}>All (${STATUSES.reduce((s, st) => s + counts[st], 0)})</a>
      ${STATUSES.map((s) => html`<a class="filter" href="#/tasks?status=${s}" aria-current=${filter === s ? 'page' : undefined}>${LABEL[s]} (${counts[s]})</a>`)}
    </div>
    ${error ? html`<p role="alert">Could not load the tasks: ${error}</p>` : null}
    <div class="scroll"><table>
      <caption class="sr-only">${filter ? LABEL[filter] : 'All'} tasks, newest first</caption>
      <thead><tr><th scope="col">Task</th><th scope="col">Role</th><th scope="col">Title</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Updated</th><th scope="col">Error</th></tr></thead>
      <tbody>${(tasks ?? []).map((t) => html`<tr key=${t.id}>
        <th scope="row"><a href="#/task/${encodeURIComponent(t.id)}">${t.id}</a></th>
        <td>${t.role}</td><td>${t.title}</td><td><${Badge} value=${t.status} /></td><td class="num">${t.attempts}</td>
        <td>${ago(t.updated_at)}</td><td class="reason">${t.error ?? ''}</td></tr>`)}</tbody>
    </table></div>
    ${tasks && !tasks.length ? html`<p>No tasks${filter ? ` ${LABEL[filter].toLowerCase()}` : ''}.</p>` : null}
  </section>`;
}
