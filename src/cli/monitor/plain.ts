import { clockTime } from './agentState.js';
import { paint } from './ansi.js';
import { agentTable } from './columns.js';
import { eventLine } from './events.js';
import { headerLines } from './header.js';
import type { Snapshot } from './model.js';

/** Width of the plain table when the output is not a terminal (no width to adapt to). */
export const PLAIN_COLS = 120;

/**
 * The frame for a pipe or a file: no colours, no box, no cursor movement.
 * A timestamped block per refresh: the header figures, the agent table and
 * the newest events, so `monitor | tee` or a log collector reads it as text.
 */
export function renderPlain(snap: Snapshot, now: number, opts: { cols?: number; events?: number } = {}): string {
  const p = paint(false);
  const lines = [`== ${clockTime(snap.at)} agentic background monitor`];
  for (const h of headerLines(snap, p)) lines.push(h.right ? `${h.left}   (${h.right})` : h.left);
  const agents = snap.status?.agents ?? [];
  if (agents.length) {
    const t = agentTable(agents, snap.health, opts.cols ?? PLAIN_COLS, p, now);
    lines.push('', t.header.trimEnd(), ...t.rows.map((r) => r.trimEnd()));
  } else {
    lines.push('', snap.connected ? '(no agents configured)' : '(waiting for the supervisor)');
  }
  const events = snap.events.slice(0, opts.events ?? 5);
  if (events.length) lines.push('', 'Recent events:', ...events.map((e) => `  ${eventLine(e)}`));
  return `${lines.join('\n')}\n`;
}
