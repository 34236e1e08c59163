import { fit, width, truncate, type Paint, type Tone } from './ansi.js';
import { agentTable, rowName } from './columns.js';
import { headerLines } from './header.js';
import type { Snapshot } from './model.js';
import { detailPane, eventsPane, logsPane } from './panes.js';

export const TITLE = 'AgenticScrum Background Monitor';

export type PaneMode = 'events' | 'detail' | 'logs';

/** What the user is doing: which row is selected, which pane shows, a pending question. */
export interface ViewState {
  selected: number;
  pane: PaneMode;
  /** The replica a restart is waiting to be confirmed for (y/n). */
  confirm?: string | undefined;
  /** A short-lived line for the footer (the result of an action). */
  message?: { text: string; tone: Tone } | undefined;
  /** The selected agent's last log lines (for the detail and logs panes). */
  logLines: readonly string[];
}

export interface Size {
  cols: number;
  rows: number;
}

const KEYS = { events: '↑↓ select  enter details  l logs  r restart  q quit', detail: '↑↓ select  esc back  l logs  r restart  q quit', logs: '↑↓ select  esc back  enter details  r restart  q quit' };
/** Lines a pane wants at least before it is shown at all. */
const PANE_MIN: Record<PaneMode, number> = { events: 3, detail: 6, logs: 6 };

/**
 * One full screen: at most `size.rows` lines of exactly `size.cols` columns,
 * boxed like the seed's mock. Agent rows scroll to keep the selected one in
 * view; on short terminals the title goes first, then the pane.
 */
export function renderFrame(snap: Snapshot, view: ViewState, size: Size, p: Paint, now: number): string[] {
  const cols = Math.max(20, size.cols);
  const inner = cols - 4;
  const rule = (l: string, r: string) => `${l}${'─'.repeat(cols - 2)}${r}`;
  const row = (s: string) => `│ ${fit(s, inner)} │`;
  const split = (left: string, right: string) => (width(left) + 2 + width(right) <= inner && right ? `${left}${' '.repeat(inner - width(left) - width(right))}${right}` : left);

  const agents = snap.status?.agents ?? [];
  const table = agentTable(agents, snap.health, inner - 2, p, now);
  const selected = Math.min(Math.max(0, view.selected), Math.max(0, agents.length - 1));
  const sel = agents[selected];

  const showTitle = size.rows >= 18;
  const fixed = 2 + (showTitle ? 2 : 0) + 4 + 1 + 1 + 2; // borders, title, header, rule, table header, rule + footer
  const room = Math.max(1, size.rows - fixed);
  const paneMin = PANE_MIN[view.pane] + 2;
  const want = view.pane === 'logs' ? Math.min(agents.length, Math.max(3, Math.floor(room / 3))) : agents.length;
  const agentRows = Math.max(1, Math.min(want || 1, room - paneMin > 0 ? room - paneMin : room));
  const paneRows = room - agentRows - 2;

  const out: string[] = [rule('┌', '┐')];
  if (showTitle) out.push(`│${centre(p.bold(TITLE), cols - 2)}│`, rule('├', '┤'));
  for (const h of headerLines(snap, p)) out.push(row(split(h.left, h.right)));
  const first = Math.min(Math.max(0, selected - agentRows + 1), Math.max(0, agents.length - agentRows));
  const scrolled = agents.length > agentRows ? ` agents ${first + 1}-${first + agentRows} of ${agents.length} (↑↓ scrolls) ` : '';
  out.push(`├─${scrolled}${'─'.repeat(Math.max(0, cols - 3 - scrolled.length))}┤`, row(`  ${p.tone(table.header, 'dim')}`));
  for (let i = 0; i < agentRows; i++) {
    const idx = first + i;
    const line = table.rows[idx];
    if (line === undefined) out.push(row(i === 0 && agents.length === 0 ? p.tone(snap.connected ? '  (no agents configured)' : '  (waiting for the supervisor)', 'dim') : ''));
    else out.push(row(idx === selected ? `${p.bold('▸')} ${line}` : `  ${line}`));
  }

  if (paneRows >= 1) {
    const title = view.pane === 'events' || !sel ? 'Recent events' : view.pane === 'detail' ? `Details: ${rowName(sel, agents)}` : `Logs: ${sel.agent} (last ${view.logLines.length} lines)`;
    const body = view.pane === 'events' || !sel ? eventsPane(snap.events, p) : view.pane === 'detail' ? detailPane(sel, snap.health, view.logLines.slice(-Math.max(0, paneRows - 7)), p, now) : logsPane(view.logLines, p);
    out.push(rule('├', '┤'), row(p.bold(title)));
    const lines = view.pane === 'logs' ? body.slice(-paneRows) : body.slice(0, paneRows);
    for (let i = 0; i < paneRows; i++) out.push(row(lines[i] ?? ''));
  }

  const footer = view.confirm
    ? p.tone(`Restart ${view.confirm}? y = yes, n = no`, 'warn')
    : view.message ? p.tone(view.message.text, view.message.tone) : p.tone(KEYS[view.pane], 'dim');
  out.push(rule('├', '┤'), row(footer), rule('└', '┘'));
  return out.slice(0, Math.max(1, size.rows)).map((l) => truncate(l, cols));
}

function centre(s: string, cols: number): string {
  const w = width(s);
  if (w >= cols) return truncate(s, cols);
  const left = Math.floor((cols - w) / 2);
  return `${' '.repeat(left)}${s}${' '.repeat(cols - w - left)}`;
}
