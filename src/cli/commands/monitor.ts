import { CliError, EXIT } from '../CliError.js';
import { useColor } from '../format.js';
import { paint } from '../monitor/ansi.js';
import { renderFrame } from '../monitor/frame.js';
import { MonitorApp } from '../monitor/MonitorApp.js';
import { renderPlain } from '../monitor/plain.js';
import { Poller } from '../monitor/Poller.js';
import type { Snapshot } from '../monitor/model.js';
import { Screen } from '../monitor/Screen.js';
import { resolveStateDir, type StateDirFlags } from '../stateDirOption.js';

export interface MonitorFlags extends StateDirFlags {
  /** Refresh period in seconds (default 1). */
  interval?: string;
  once?: boolean;
  /** Force the plain table even on a terminal. */
  plain?: boolean;
  /** One JSON snapshot per refresh (one line each; with --once, one indented document). */
  json?: boolean;
}

/** The snapshot `monitor --json` prints: what a frame shows, as data (times as ISO strings). */
export function snapshotJson(s: Snapshot): Record<string, unknown> {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    at: iso(s.at),
    connected: s.connected,
    answered_at: iso(s.okAt),
    error: s.error ?? null,
    status: s.status ?? null,
    health: s.health ? { verdict: s.health.verdict, source: s.health.source, agents: Object.fromEntries(s.health.agents) } : null,
    completed_per_min: s.ratePerMin ?? null,
    events: s.events.map((e) => ({ at: iso(e.at), kind: e.kind, agent: e.agent, text: e.text })),
  };
}

/** Parses --interval: seconds, 0.2 to 3600. @throws CliError (exit 2) otherwise. */
export function parseInterval(raw: string | undefined): number {
  if (raw === undefined) return 1000;
  const s = Number(raw);
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !(s >= 0.2 && s <= 3600)) throw new CliError(`--interval: expected seconds between 0.2 and 3600, got ${JSON.stringify(raw)}`, EXIT.USAGE);
  return Math.round(s * 1000);
}

/**
 * `background monitor`: a live dashboard of the supervisor (header figures, a row
 * per agent, recent events; keys to select, inspect, restart and quit). On a
 * pipe or with --plain it prints a plain table every interval instead; --once
 * prints one frame and exits. Exits 3 when no supervisor answers at start; once
 * running it survives the supervisor restarting ("reconnecting…").
 */
export async function monitorCommand(flags: MonitorFlags): Promise<number> {
  const intervalMs = parseInterval(flags.interval);
  const dir = await resolveStateDir(flags);
  const poller = new Poller({ stateDir: dir });
  const first = await poller.poll();
  if (!first.connected) {
    poller.close();
    throw new CliError(first.error ?? `No supervisor answered for ${dir.root}.`, EXIT.NOT_RUNNING);
  }
  if (flags.json) {
    if (!flags.once) return plainLoop(poller, intervalMs, (s) => `${JSON.stringify(snapshotJson(s))}\n`);
    poller.close();
    process.stdout.write(`${JSON.stringify(snapshotJson(first), null, 2)}\n`);
    return EXIT.OK;
  }
  const tty = Boolean(process.stdout.isTTY) && !flags.plain;

  if (flags.once) {
    if (!tty) {
      poller.close();
      process.stdout.write(renderPlain(first, Date.now()));
      return EXIT.OK;
    }
    const agents = first.status?.agents.length ?? 0;
    poller.close();
    const rows = 14 + Math.max(1, agents) + Math.max(3, Math.min(first.events.length, 8));
    const cols = process.stdout.columns || 80;
    process.stdout.write(`${renderFrame(first, { selected: 0, pane: 'events', logLines: [] }, { cols, rows }, paint(useColor()), Date.now()).join('\n')}\n`);
    return EXIT.OK;
  }

  if (!tty) return plainLoop(poller, intervalMs, (s) => `${renderPlain(s, Date.now())}\n`);
  const app = new MonitorApp({ poller, screen: new Screen(process.stdout, process.stdin), logDir: dir.logDir, intervalMs, color: useColor() });
  return app.run();
}

/** Prints a block (plain text, or a JSON line) every interval until SIGINT, SIGTERM or SIGHUP. */
async function plainLoop(poller: Poller, intervalMs: number, render: (s: Snapshot) => string): Promise<number> {
  let stop: (() => void) | undefined;
  const stopped = new Promise<void>((r) => { stop = r; });
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  const onSignal = () => stop?.();
  for (const s of signals) process.once(s, onSignal);
  let snap = poller.snapshot;
  try {
    for (;;) {
      process.stdout.write(render(snap));
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<'tick'>((r) => { timer = setTimeout(() => r('tick'), intervalMs); });
      const next = await Promise.race([tick, stopped.then(() => 'stop' as const)]);
      clearTimeout(timer);
      if (next === 'stop') break;
      snap = await poller.poll();
    }
  } finally {
    for (const s of signals) process.off(s, onSignal);
    poller.close();
  }
  return EXIT.OK;
}
