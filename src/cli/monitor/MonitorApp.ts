import { paint } from './ansi.js';
import { rowName } from './columns.js';
import { renderFrame, type ViewState } from './frame.js';
import type { Key } from './keys.js';
import { tailAgentLog } from './logTail.js';
import type { Poller } from './Poller.js';
import type { Screen } from './Screen.js';
import { applyKey } from './viewKeys.js';

/** How long an action's result stays in the footer (ms). */
const MESSAGE_MS = 5000;
/** Log lines kept for the detail and logs panes. */
const LOG_LINES = 200;

export interface MonitorAppOptions {
  poller: Poller;
  screen: Screen;
  logDir: string;
  /** Refresh period (ms). */
  intervalMs: number;
  color: boolean;
  now?: () => number;
}

/**
 * The live monitor: polls every `intervalMs`, redraws on every poll and key,
 * and turns keys into actions (select, panes, restart with confirmation, quit).
 * `run()` resolves with the exit code when the user quits or SIGINT/SIGTERM/SIGHUP arrives.
 */
export class MonitorApp {
  private view: ViewState = { selected: 0, pane: 'events', logLines: [] };
  private messageUntil = 0;
  private timer: NodeJS.Timeout | undefined;
  private finish: ((code: number) => void) | undefined;
  private readonly now: () => number;
  private readonly p;

  constructor(private readonly o: MonitorAppOptions) {
    this.now = o.now ?? Date.now;
    this.p = paint(o.color);
  }

  run(): Promise<number> {
    const done = new Promise<number>((resolve) => { this.finish = resolve; });
    // SIGINT arrives only when stdin is not a terminal (raw mode turns Ctrl-C into a key)
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const onSignal = () => this.quit(0);
    for (const sig of signals) process.once(sig, onSignal);
    this.o.screen.start({ keys: (k) => this.onKeys(k), resize: () => this.render() });
    this.readLogs();
    this.render();
    this.schedule();
    return done.finally(() => {
      for (const sig of signals) process.off(sig, onSignal);
    });
  }

  private schedule(): void {
    this.timer = setTimeout(async () => {
      await this.o.poller.poll();
      if (!this.finish) return;
      this.readLogs();
      this.render();
      this.schedule();
    }, this.o.intervalMs);
  }

  private names(): string[] {
    const agents = this.o.poller.snapshot.status?.agents ?? [];
    return agents.map((a) => rowName(a, agents));
  }

  private onKeys(keys: Key[]): void {
    for (const key of keys) {
      const before = this.view;
      const { view, action } = applyKey(this.view, key, this.names());
      this.view = view;
      if (view.message && view.message !== before.message) this.messageUntil = this.now() + MESSAGE_MS;
      if (action.kind === 'quit') return this.quit(0);
      if (action.kind === 'restart') void this.restart(action.name);
      if (view.selected !== before.selected || view.pane !== before.pane) this.readLogs();
    }
    this.render();
  }

  private async restart(name: string): Promise<void> {
    this.view = { ...this.view, message: { text: `Restarting ${name}…`, tone: 'warn' } };
    this.messageUntil = this.now() + MESSAGE_MS;
    this.render();
    const r = await this.o.poller.restart(name);
    this.view = { ...this.view, message: { text: r.text, tone: r.ok ? 'ok' : 'bad' } };
    this.messageUntil = this.now() + MESSAGE_MS;
    this.render();
  }

  private readLogs(): void {
    if (this.view.pane === 'events') return;
    const agents = this.o.poller.snapshot.status?.agents ?? [];
    const a = agents[Math.min(this.view.selected, agents.length - 1)];
    const multi = a ? agents.filter((b) => b.agent === a.agent).length > 1 : false;
    this.view = { ...this.view, logLines: a ? tailAgentLog(this.o.logDir, a.agent, LOG_LINES, multi ? a.replica : undefined) : [] };
  }

  private render(): void {
    if (!this.finish) return;
    if (this.view.message && this.now() > this.messageUntil) this.view = { ...this.view, message: undefined };
    this.o.screen.draw(renderFrame(this.o.poller.snapshot, this.view, this.o.screen.size(), this.p, this.now()));
  }

  private quit(code: number): void {
    if (!this.finish) return;
    clearTimeout(this.timer);
    this.o.poller.close();
    this.o.screen.stop();
    const finish = this.finish;
    this.finish = undefined;
    finish(code);
  }
}
