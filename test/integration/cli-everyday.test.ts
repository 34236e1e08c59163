import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanup, ROOT, runCli, startSupervisor, waitFor, writeConfig, type RunningSupervisor } from '../helpers/harness.js';
import { TmuxSession } from '../helpers/tmux.js';

/**
 * The everyday commands a PM2 user expects: `logs` prints the last 100 lines,
 * `--correlation-id` takes the 8 characters human lines print, `tasks` says when
 * nothing matches, and the foreground output on a terminal is text even with NO_COLOR.
 */

const A = 'abcdef01' + '0'.repeat(24);
const B = 'abcdef02' + '1'.repeat(24);

describe('logs from the store (no supervisor needed)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-everyday-'));
  beforeAll(() => {
    mkdirSync(path.join(dir, 'logs'), { recursive: true });
    const t0 = Date.now() - 60_000;
    const lines: string[] = [];
    for (let i = 0; i < 250; i++) lines.push(JSON.stringify({ level: 30, time: t0 + i, component: 'supervisor', msg: `line ${i}`, ...(i === 10 ? { trace_id: A, task_id: 'T_A' } : i === 20 ? { trace_id: B, task_id: 'T_B' } : {}) }));
    writeFileSync(path.join(dir, 'logs', 'supervisor.log'), `${lines.join('\n')}\n`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const logs = (...args: string[]) => runCli(['background', 'logs', ...args, '--state-dir', dir]);

  it('prints the last 100 lines without -n, and n with -n', async () => {
    const all = await logs();
    expect(all.code, all.stderr).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(100);
    expect(lines[0]).toContain('line 150');
    expect(lines.at(-1)).toContain('line 249');
    expect((await logs('-n', '5')).stdout.trim().split('\n')).toHaveLength(5);
    expect((await logs('-n', '1000')).stdout.trim().split('\n')).toHaveLength(250);
  }, 240_000);

  it('takes the 8-character correlation id prefix that human lines print, and says when a prefix is ambiguous', async () => {
    const human = await logs('-n', '1000');
    expect(human.stdout).toContain(`trace=${A.slice(0, 8)}`);
    const byPrefix = await logs('--correlation-id', A.slice(0, 8));
    expect(byPrefix.code, byPrefix.stderr).toBe(0);
    expect(byPrefix.stdout.trim().split('\n')).toEqual([expect.stringContaining('line 10')]);
    expect((await logs('--correlation-id', A)).stdout).toBe(byPrefix.stdout);
    const ambiguous = await logs('--correlation-id', 'abcdef0');
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain(`--correlation-id abcdef0 is ambiguous: it starts 2 correlation ids (${A}, ${B})`);
    const bad = await logs('--correlation-id', 'not-hex');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--correlation-id: expected the task's trace id/);
  }, 240_000);
});

describe('tasks and the foreground output', () => {
  let sup: RunningSupervisor;
  let term: TmuxSession | undefined;
  beforeAll(async () => {
    sup = await startSupervisor({ agents: [{ name: 'w', command: ['node', path.join(ROOT, 'test/fixtures/agents/worker.mjs')] }] });
  });
  afterAll(() => {
    term?.kill();
    cleanup(sup);
  });

  it('`tasks --status failed` with no match says "no failed tasks"', async () => {
    const r = await sup.cli(['background', 'tasks', '--status', 'failed']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('no failed tasks\n');
    expect((await sup.cli(['background', 'tasks', '--status', 'in_progress', '--role', 'w'])).stdout).toBe('no in progress tasks for role w\n');
    expect(JSON.parse((await sup.cli(['background', 'tasks', '--status', 'failed', '--json'])).stdout)).toEqual([]);
  });

  it('NO_COLOR=1 on a terminal gives plain text, one line per event, not raw JSON', async () => {
    const { file } = writeConfig({ agents: [{ name: 'w', command: ['node', path.join(ROOT, 'test/fixtures/agents/worker.mjs')] }] });
    term = TmuxSession.start([process.execPath, CLI, 'background', 'start', '--foreground', '--config', file], { cols: 200, rows: 40, env: { NO_COLOR: '1' } });
    const screen = await term.waitForScreen('the supervisor started', (s) => s.includes('supervisor started'));
    const lines = screen.split('\n').filter((l) => l.trim());
    expect(lines.some((l) => l.trimStart().startsWith('{'))).toBe(false);
    expect(screen.includes('\u001b[')).toBe(false);
    const started = lines.find((l) => l.includes('supervisor started')) ?? '';
    expect(started).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: supervisor started \{.*"agents":1/);
    term.send('C-c');
    await waitFor('the foreground supervisor to stop', () => term?.exitStatus() !== undefined);
    rmSync(path.dirname(file), { recursive: true, force: true });
  });
});
