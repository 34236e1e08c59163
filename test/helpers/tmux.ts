import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { waitFor } from './harness.js';

/**
 * A real terminal for tests: a tmux server on a private socket (so a
 * developer's own tmux sessions are never touched), one detached session of a
 * fixed size, `send-keys` to type and `capture-pane` to read the screen.
 * A missing tmux binary throws: terminal tests never skip.
 */
export class TmuxSession {
  private constructor(private readonly socket: string, readonly name: string) {}

  static start(command: string[], opts: { cols: number; rows: number; env?: Record<string, string> }): TmuxSession {
    const socket = `agentic-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const s = new TmuxSession(socket, 'main');
    const env = Object.entries(opts.env ?? {}).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    // remain-on-exit keeps the pane (and its exit status) after the command ends
    s.tmux(['-f', '/dev/null', 'start-server', ';', 'set-option', '-g', 'remain-on-exit', 'on', ';', 'new-session', '-d', '-s', s.name, '-x', String(opts.cols), '-y', String(opts.rows), ...env, shellJoin(command)]);
    return s;
  }

  /**
   * Splits the window: a second pane, below the first, running `command` (an operator's
   * shell next to the monitor). Returns its pane id, for the `pane` argument of capture,
   * send and waitForScreen.
   */
  split(command: string[], opts: { env?: Record<string, string> } = {}): string {
    // Through env(1): tmux 3.3's split-window -e does not reach the pane's command.
    const env = Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`);
    return this.tmux(['split-window', '-v', '-d', '-P', '-F', '#{pane_id}', '-t', this.name, shellJoin(env.length ? ['env', ...env, ...command] : command)]).trim();
  }

  /** The visible screen as plain text (no colours); with `history`, the scrolled-off lines too. `pane`: a pane id from split() (default: the first). */
  capture(history = false, pane?: string): string {
    return this.tmux(['capture-pane', '-p', ...(history ? ['-S', '-200'] : []), '-t', pane ?? this.name]);
  }

  /** Keys in tmux send-keys syntax: 'q', 'Down', 'Enter', 'Escape'. */
  send(...keys: string[]): void {
    this.tmux(['send-keys', '-t', this.name, ...keys]);
  }

  /** Types `text` literally into a pane (from split()), then Enter. */
  type(pane: string, text: string): void {
    this.tmux(['send-keys', '-t', pane, '-l', text]);
    this.tmux(['send-keys', '-t', pane, 'Enter']);
  }

  /** Waits until the screen (of `pane`, default the first) matches, and returns it. The last screen is in the error on timeout. */
  async waitForScreen(what: string, test: (screen: string) => boolean, timeoutMs = 20_000, pane?: string): Promise<string> {
    let last = '';
    try {
      return await waitFor(what, () => {
        last = this.capture(pane !== undefined, pane);
        return test(last) ? last : undefined;
      }, timeoutMs, 150);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- last screen ---\n${last}`);
    }
  }

  /**
   * Once the pane's command has ended: its exit code, or `signal SIGxxx`. tmux
   * sometimes marks the pane dead without reaping the process (it stays a zombie,
   * so tmux never learns the status); the status is then read from
   * /proc/<pid>/stat (field 52, exit_code, as waitpid reports it).
   */
  exitStatus(): number | string | undefined {
    const out = this.tmux(['display-message', '-p', '-t', this.name, '#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}|#{pane_pid}']).trim();
    const [, code, signal, pid] = out.split('|');
    if (code) return Number(code);
    if (signal) return `signal ${signal}`;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined; // reaped between the two reads: tmux has the status next time
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z') return undefined; // still running (or dead === '1' and about to be reaped)
    const status = Number(fields[49]);
    return status & 0x7f ? `signal ${status & 0x7f}` : (status >> 8) & 0xff;
  }

  /** Waits for the pane's command to end and returns its exit status; the last screen is in the error on timeout. */
  async waitForExit(timeoutMs = 20_000): Promise<number | string> {
    try {
      return await waitFor('the command in tmux to exit', () => this.exitStatus(), timeoutMs, 100);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- process ---\n${this.processState()}\n--- last screen ---\n${this.capture(true)}`);
    }
  }

  /** The pane's process and its children: state and kernel wait channel, for diagnosing a hang. */
  processState(): string {
    const pid = this.tmux(['display-message', '-p', '-t', this.name, '#{pane_pid}']).trim();
    const r = spawnSync('ps', ['-o', 'pid,stat,wchan:32,etime,args', '--pid', pid, '--ppid', pid], { encoding: 'utf8' });
    return r.stdout || r.error?.message || '';
  }

  kill(): void {
    spawnSync('tmux', ['-L', this.socket, 'kill-server'], { encoding: 'utf8' });
    rmSync(path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }

  private tmux(args: string[]): string {
    const r = spawnSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', timeout: 10_000 });
    if (r.error) throw new Error((r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'tmux is not installed (Debian: apt-get install tmux): terminal tests do not skip' : `tmux ${args.join(' ')}: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`tmux ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  }
}

const shellJoin = (argv: string[]) => argv.map((a) => (/^[\w./=:@%+-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`)).join(' ');
