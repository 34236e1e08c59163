import { render } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { login, logout, resume } from './api.js';
import { Alerts } from './Alerts.js';
import { ConfirmDialog, type ConfirmRequest } from './Confirm.js';
import { Fleet, type History } from './Fleet.js';
import { html } from './html.js';
import { System } from './System.js';
import { Tasks } from './Tasks.js';
import { TaskPage } from './TaskPage.js';
import type { TaskStatus, UiSnapshot } from './types.js';

const POINTS = 60;

function useRoute(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const on = () => setHash(location.hash);
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return hash;
}

/** The live stream (GET /api/v1/ui/stream): the newest snapshot, and the last CPU and RSS samples by replica. */
function useLive(): { snap: UiSnapshot | null; live: boolean; history: History; version: string } {
  const [state, setState] = useState<{ snap: UiSnapshot | null; live: boolean; version: string }>({ snap: null, live: false, version: '' });
  const [history] = useState<History>(() => new Map());
  useEffect(() => {
    const es = new EventSource('/api/v1/ui/stream');
    es.addEventListener('snapshot', (e) => {
      const snap = JSON.parse((e as MessageEvent<string>).data) as UiSnapshot;
      for (const a of snap.status.agents) {
        const h = history.get(a.replica) ?? { cpu: [], rss: [] };
        h.cpu = [...h.cpu, a.cpu_percent ?? 0].slice(-POINTS);
        h.rss = [...h.rss, a.rss_bytes ?? 0].slice(-POINTS);
        history.set(a.replica, h);
      }
      setState({ snap, live: true, version: (e as MessageEvent).lastEventId });
    });
    es.onerror = () => setState((s) => ({ ...s, live: false }));
    return () => es.close();
  }, []);
  return { ...state, history };
}

function Dashboard({ onLogout }: { onLogout: () => void }) {
  const route = useRoute();
  const { snap, live, history, version } = useLive();
  const [request, setRequest] = useState<ConfirmRequest | null>(null);
  const [notice, setNotice] = useState<{ text: string; error: boolean } | null>(null);
  const done = useCallback((text: string | null, error = false) => {
    setRequest(null);
    if (text) setNotice({ text, error });
  }, []);
  const task = /^#\/task\/(.+)$/.exec(route);
  const tasks = /^#\/tasks(?:\?status=(\w+))?$/.exec(route);
  const alerts = route === '#/alerts';
  const system = route === '#/system';
  let body;
  if (!snap) body = html`<p>Connecting to the supervisor…</p>`;
  else if (task) body = html`<${TaskPage} id=${decodeURIComponent(task[1] as string)} version=${version} ask=${setRequest} />`;
  else if (tasks) body = html`<${Tasks} queue=${snap.status.queue} filter=${tasks[1] as TaskStatus | undefined} />`;
  else if (alerts) body = html`<${Alerts} />`;
  else if (system) body = html`<${System} snap=${snap} />`;
  else body = html`<${Fleet} snap=${snap} history=${history} ask=${setRequest} />`;
  const fleet = !task && !tasks && !alerts && !system;
  return html`
    <header>
      <h1>Agentic supervisor</h1>
      <nav aria-label="Views"><a href="#/" aria-current=${fleet ? 'page' : undefined}>Fleet</a> <a href="#/tasks" aria-current=${tasks ? 'page' : undefined}>Queue and tasks</a> <a href="#/alerts" aria-current=${alerts ? 'page' : undefined}>Alerts</a> <a href="#/system" aria-current=${system ? 'page' : undefined}>System</a></nav>
      <span class="badge ${live ? 'ok' : 'bad'}" role="status">${live ? '● live' : '○ not live: reconnecting'}</span>
      ${snap ? html`<span class="muted">supervisor pid ${snap.status.supervisor.pid}, v${snap.status.supervisor.version}</span>` : null}
      <button type="button" onClick=${onLogout}>Log out</button>
    </header>
    <div role="status" aria-live="polite" class=${notice?.error ? 'notice error' : 'notice'}>${notice?.text ?? ''}</div>
    <main>${body}</main>
    <${ConfirmDialog} request=${request} onDone=${done} />`;
}

function LoggedOut({ reason }: { reason: string }) {
  return html`<main class="login"><h1>Agentic supervisor</h1><p role="alert">${reason}</p>
    <p>Run <code>agentic-scrum-setup background ui</code> (add <code>--open</code> to open it) and follow the link it prints. The link works once, for a few minutes.</p></main>`;
}

/** Logs in with the one-time code of the URL fragment (then removes it from the address bar and history), or resumes the cookie's session. */
function App() {
  const [state, setState] = useState<'checking' | 'in' | string>('checking');
  useEffect(() => {
    const m = /^#login=([A-Za-z0-9_-]+)$/.exec(location.hash);
    if (m) history.replaceState(null, '', `${location.pathname}#/`);
    (m ? login(m[1] as string).then(() => true) : resume())
      .then((ok) => setState(ok ? 'in' : 'You are not logged in.'))
      .catch((err: Error) => setState(`Login failed: ${err.message}`));
  }, []);
  if (state === 'checking') return html`<main><p>Logging in…</p></main>`;
  if (state !== 'in') return html`<${LoggedOut} reason=${state} />`;
  return html`<${Dashboard} onLogout=${() => { void logout().finally(() => setState('You logged out.')); }} />`;
}

render(html`<${App} />`, document.getElementById('app') as HTMLElement);
