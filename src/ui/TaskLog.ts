import { useEffect, useState } from 'preact/hooks';
import { get } from './api.js';
import { html } from './html.js';
import type { StreamJsonPart, TaskLogLine } from './types.js';

interface TaskLogs { total: number; lines: TaskLogLine[] }

/** How often the logs of a pending or running task are read again (ms). */
const LIVE_REFRESH_MS = 3000;

/** How each piece of a Claude run reads in the transcript: a text label (never colour alone) and its tone. */
const PART: Record<StreamJsonPart['kind'], { label: string; tone: string }> = {
  session: { label: 'Session', tone: 'off' },
  system: { label: 'System', tone: 'off' },
  text: { label: 'Assistant', tone: 'say' },
  thinking: { label: 'Thinking', tone: 'off' },
  tool: { label: 'Tool call', tone: 'tool' },
  tool_result: { label: 'Tool result', tone: 'off' },
  tool_error: { label: 'Tool error', tone: 'bad' },
  user: { label: 'User', tone: 'off' },
  result: { label: 'Result', tone: 'ok' },
  error_result: { label: 'Error', tone: 'bad' },
  rate_limit: { label: 'Rate limit', tone: 'warn' },
  event: { label: 'Event', tone: 'off' },
};

/** The line without the prefix its label already says (`tool: `, `tool result: `, `result: `…). */
const strip = (p: StreamJsonPart) => p.text.replace(/^(tool|tool result|tool error|result|session start|system|rate limit|user): /, '');

function Transcript({ lines }: { lines: TaskLogLine[] }) {
  const parts = lines.flatMap((l, i) => (l.parts ?? []).map((p, j) => ({ p, key: `${i}.${j}`, who: l.who })));
  return html`<ol class="transcript" aria-label="Transcript of the Claude run">
    ${parts.map(({ p, key }) => html`<li key=${key} class="part ${PART[p.kind].tone}" data-kind=${p.kind}>
      <span class="part-label">${PART[p.kind].label}</span>
      ${p.kind === 'text' ? html`<div class="say">${p.body ?? p.text}</div>` : p.kind === 'tool' ? html`<code>${strip(p)}</code>` : html`<span>${strip(p)}</span>`}
    </li>`)}
  </ol>`;
}

const clock = (ms: number | null) => (ms === null ? '–' : new Date(ms).toISOString().slice(11, 23));

/**
 * A task's log lines by its correlation id (GET /api/v1/tasks/:id/logs, the lines of
 * `background logs --correlation-id`), and for a Claude run the stream as a transcript.
 * Read again every 3 s while the task is pending or running, and when it changes.
 */
export function TaskLog({ id, live, refresh }: { id: string; live: boolean; refresh: string }) {
  const [logs, setLogs] = useState<TaskLogs | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let open = true;
    const load = () => get<TaskLogs>(`/api/v1/tasks/${encodeURIComponent(id)}/logs?limit=500`)
      .then((r) => { if (open) { setLogs(r); setError(null); } })
      .catch((err: Error) => { if (open) setError(err.message); });
    void load();
    // A task that may still log is read again every few seconds (each read scans the log store), a finished one when it changes.
    const timer = live ? setInterval(load, LIVE_REFRESH_MS) : undefined;
    return () => { open = false; clearInterval(timer); };
  }, [id, live, refresh]);
  if (error) return html`<h3>Logs</h3><p role="alert">Could not read the task's logs: ${error}</p>`;
  if (!logs) return html`<h3>Logs</h3><p>Loading…</p>`;
  const claude = logs.lines.some((l) => l.parts);
  return html`
    ${claude ? html`<h3 id="transcript-title">Transcript</h3><${Transcript} lines=${logs.lines} />` : null}
    <h3 id="logs-title">Logs</h3>
    <p class="muted">${logs.total > logs.lines.length ? `The last ${logs.lines.length} of ${logs.total} lines` : `${logs.total} line${logs.total === 1 ? '' : 's'}`} with this correlation id, as <code>background logs --correlation-id</code> prints them.</p>
    ${logs.lines.length ? html`<div class="scroll"><table class="logs" aria-labelledby="logs-title">
      <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Level</th><th scope="col">From</th><th scope="col">Message</th></tr></thead>
      <tbody>${logs.lines.map((l, i) => html`<tr key=${i}><td class="pid">${clock(l.time)}</td><td><span class="badge ${l.level === 'ERROR' || l.level === 'FATAL' ? 'bad' : l.level === 'WARN' ? 'warn' : 'off'}">${l.level}</span></td><td>${l.who}</td><td class="msg">${l.msg}</td></tr>`)}</tbody>
    </table></div>` : null}`;
}
