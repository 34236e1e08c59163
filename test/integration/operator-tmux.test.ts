import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { CLI, cleanup, processesWith, ROOT, startSupervisor, TEST_STATE_HOME, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { TmuxSession } from '../helpers/tmux.js';

/**
 * The operator's day in a real terminal: tmux with the monitor in the top pane and a
 * shell in the bottom one, where the test types `stop <agent>`, `start <agent>`,
 * `scale` and `reload --config` as an operator would (the bin on the PATH, the state
 * directory from AGENTIC_STATE_DIR). After each command the monitor, left running,
 * shows the new counts and states (and replicas added in its Recent events) without
 * being restarted.
 */

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const MARKER = `optmux${process.pid}`;
const WAIT = 60_000; // a bound, not a wait: the machine may be loaded

/** The monitor's row of one replica, e.g. `│   w-1  stopped …`. */
const row = (screen: string, name: string) => screen.split('\n').find((l) => new RegExp(`^│ [▸ ] ${name}\\s`).test(l)) ?? '';

describe('stop, start, scale and reload from a shell while the monitor runs (tmux)', () => {
  let sup: RunningSupervisor;
  let term: TmuxSession | undefined;
  let shell = '';
  let step = 0;
  const bin = mkdtempSync(path.join(tmpdir(), 'operator-bin-'));

  /** Types a command in the shell pane and waits for it to end; returns its exit code and the screen. */
  const run = async (command: string): Promise<{ code: number; screen: string }> => {
    const n = ++step;
    term!.type(shell, `${command}; echo "[step ${n} exit $?]"`);
    const screen = await term!.waitForScreen(`step ${n} (${command}) to end`, (s) => new RegExp(`^\\[step ${n} exit \\d+\\]`, 'm').test(s), WAIT, shell);
    return { code: Number(new RegExp(`^\\[step ${n} exit (\\d+)\\]`, 'm').exec(screen)?.[1]), screen };
  };
  const monitor = (what: string, test: (s: string) => boolean) => term!.waitForScreen(`the monitor: ${what}`, test, WAIT);

  beforeAll(async () => {
    sup = await startSupervisor({
      agents: [
        { name: 'w', command: ['node', WORKER, `w-${MARKER}`], replicas: 2, stop_timeout: 5 },
        { name: 'p', mode: 'per_task', max_concurrent: 2, command: ['node', '-e', 'process.exit(0)'] },
      ],
      monitoring: { check_interval: 1 },
    });
    await waitFor('w-0 and w-1 running', async () => (await sup.api<{ agents: { state: string; agent: string }[] }>('GET', '/api/v1/status')).body.agents.filter((a) => a.agent === 'w' && a.state === 'running').length === 2, WAIT);
    // The bin as `npm install -g .` puts it on the PATH.
    const exe = path.join(bin, 'agentic-scrum-setup');
    writeFileSync(exe, `#!/bin/sh\nexec '${process.execPath}' '${CLI}' "$@"\n`);
    chmodSync(exe, 0o755);
  }, 120_000);

  afterAll(() => {
    term?.kill();
    cleanup(sup);
    rmSync(bin, { recursive: true, force: true });
  });

  it('each command shows in the running monitor: counts and the stopped state', async () => {
    const env = { AGENTIC_STATE_DIR: sup.stateDir, XDG_STATE_HOME: TEST_STATE_HOME, NO_COLOR: '1', PATH: `${bin}:${process.env.PATH ?? ''}`, PS1: '$ ' };
    term = TmuxSession.start([process.execPath, CLI, 'background', 'monitor', '--state-dir', sup.stateDir], { cols: 120, rows: 64, env });
    shell = term.split(['bash', '--norc', '--noprofile'], { env });
    await monitor('the first frame', (s) => s.includes('Active Agents: 2/2 (replicas 2/2, slots 0/2 busy)') && /running/.test(row(s, 'w-1')));

    let r = await run('agentic-scrum-setup background stop w-1');
    expect(r.code).toBe(0);
    expect(r.screen).toMatch(/Stopped w-1 \(w-1\); it stays stopped, across supervisor restarts too, until: background start w-1/);
    await monitor('w-1 stopped', (s) => s.includes('Active Agents: 2/2 (replicas 1/2 (1 stopped), slots 0/2 busy)') && /\sstopped\s/.test(row(s, 'w-1')) && /running/.test(row(s, 'w-0')));

    r = await run('agentic-scrum-setup background start w-1');
    expect(r.code).toBe(0);
    expect(r.screen).toMatch(/Started w-1 \(w-1\)/);
    await monitor('w-1 running again', (s) => s.includes('Active Agents: 2/2 (replicas 2/2, slots 0/2 busy)') && /running/.test(row(s, 'w-1')));

    r = await run('agentic-scrum-setup background scale w 3');
    expect(r.code).toBe(0);
    expect(r.screen).toMatch(/Scaled w from 2 to 3 replicas: started w-2/);
    await monitor('three replicas of w', (s) => s.includes('Active Agents: 2/2 (replicas 3/3, slots 0/2 busy)') && /running/.test(row(s, 'w-2')) && /w-2 added/.test(s));
    expect(processesWith(`w-${MARKER}`)).toHaveLength(3);

    r = await run('agentic-scrum-setup background stop p');
    expect(r.code).toBe(0);
    expect(r.screen).toMatch(/Stopped p: no new run starts/);
    await monitor('p stopped', (s) => s.includes('Active Agents: 1/2 (replicas 3/3, slots 0/2 busy)') && /\sstopped\s/.test(row(s, 'p')));

    // The edited config: a new agent x, p may run 3 at once; w as it was (so the scale to 3 holds).
    const doc = parse(readFileSync(path.join(sup.dir, 'config.yaml'), 'utf8')) as { background: { agents: Record<string, unknown>[] } };
    doc.background.agents = [doc.background.agents[0]!, { ...doc.background.agents[1], max_concurrent: 3 }, { name: 'x', command: ['node', WORKER, `x-${MARKER}`], stop_timeout: 5 }];
    const edited = path.join(sup.dir, 'edited.yaml');
    writeFileSync(edited, stringify(doc));
    r = await run(`agentic-scrum-setup background reload --config ${edited}`);
    expect(r.code).toBe(0);
    expect(r.screen).toContain(`Reloaded ${edited}:`);
    expect(r.screen).toMatch(/added {5}x \(service\): started x-0/);
    expect(r.screen).toMatch(/changed {3}p \[max_concurrent\] not restarted/);
    expect(r.screen).toMatch(/unchanged w \(not touched\)/);
    // p stays stopped (an operator's stop holds across a reload); w keeps its 3 replicas.
    await monitor('x added, p still stopped, 3 slots', (s) => s.includes('Active Agents: 2/3 (replicas 4/4, slots 0/3 busy)') && /running/.test(row(s, 'x-0')) && /\sstopped\s/.test(row(s, 'p')) && /x-0 added/.test(s));

    r = await run('agentic-scrum-setup background start p');
    expect(r.code).toBe(0);
    await monitor('every agent up', (s) => s.includes('Active Agents: 3/3 (replicas 4/4, slots 0/3 busy)') && !/\sstopped\s/.test(row(s, 'p')));

    // An invalid config: the loader's error in the shell, exit 2, and the monitor still shows the same fleet.
    writeFileSync(path.join(sup.dir, 'broken.yaml'), stringify({ background: { ...doc.background, agents: [{ name: 'w' }] } }));
    r = await run(`agentic-scrum-setup background reload --config ${path.join(sup.dir, 'broken.yaml')}`);
    expect(r.code).toBe(2);
    expect(r.screen).toMatch(/background\.agents\[0\]\.command/);
    expect(await monitor('the fleet unchanged', (s) => s.includes('Active Agents: 3/3 (replicas 4/4, slots 0/3 busy)'))).toBeTruthy();
  }, 300_000);
});
