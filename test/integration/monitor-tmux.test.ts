import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanup, restartSupervisor, ROOT, runCli, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { TmuxSession } from '../helpers/tmux.js';

/**
 * `background monitor` in a real terminal: tmux runs the built CLI against a
 * real supervisor; the test types with send-keys and reads capture-pane.
 */

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
const TREE = path.join(ROOT, 'test/fixtures/agents/tree.sh');
const MARKER = `monitor-${process.pid}`;

interface StatusBody { agents: { replica: string; pid: number | null; state: string; restarts: number }[] }

/** The row of one agent on the screen, e.g. `▸ worker-1  running  0%  43MB  1  3s  -`. */
const row = (screen: string, name: string) => screen.split('\n').find((l) => new RegExp(`^│ [▸ ] ${name}\\s`).test(l)) ?? '';

describe('background monitor in tmux', () => {
  let sup: RunningSupervisor;
  let term: TmuxSession | undefined;

  beforeAll(async () => {
    sup = await startSupervisor({
      agents: [
        { name: 'worker', command: ['node', WORKER], replicas: 2, heartbeat_interval: 1 },
        { name: 'tree', command: ['bash', TREE], env: { MARKER } },
      ],
      // the first crash restarts at once, the second waits base_delay (no jitter): "restarting in 3s"
      // health checks every second, so a finding about the killed process clears quickly
      monitoring: { check_interval: 1, recovery: { base_delay: 3, jitter: 0 } },
    });
    await waitFor('all replicas running', async () => (await sup.api<StatusBody>('GET', '/api/v1/status')).body.agents.every((a) => a.state === 'running'));
  });

  afterAll(() => {
    term?.kill();
    cleanup(sup);
  });

  const pidOf = async (replica: string) => (await sup.api<StatusBody>('GET', '/api/v1/status')).body.agents.find((a) => a.replica === replica)?.pid ?? 0;

  it('shows the header and a row per agent, follows a SIGKILLed agent through restarting back to running, restarts on r+y, survives a supervisor restart and quits on q', async () => {
    term = TmuxSession.start([process.execPath, CLI, 'background', 'monitor', '--state-dir', sup.stateDir], { cols: 100, rows: 32 });
    let screen = await term.waitForScreen('the first frame', (s) => s.includes('Active Agents: 2/2 (replicas 3/3)'));
    expect(screen).toContain('AgenticScrum Background Monitor');
    expect(screen).toMatch(/System Status: ● Healthy/);
    expect(screen).toMatch(/Queue Depth: 0 tasks/);
    expect(screen).toMatch(/Processing Rate: [\d.]+ tasks\/min/);
    expect(screen).toMatch(/AGENT\s+STATUS\s+CPU\s+RAM\s+RESTARTS\s+UPTIME\s+TASK/);
    for (const name of ['worker-0', 'worker-1', 'tree-0']) expect(row(screen, name)).toMatch(/running/);

    // first SIGKILL: restarted at once
    process.kill(await pidOf('worker-1'), 'SIGKILL');
    screen = await term.waitForScreen('worker-1 restarted', (s) => /worker-1 restarted \(crash\)/.test(s) && /running\s+\S+\s+\S+\s+1\s/.test(row(s, 'worker-1')));
    // second SIGKILL within stable_uptime: backoff, counted down on screen, then running again
    process.kill(await pidOf('worker-1'), 'SIGKILL');
    screen = await term.waitForScreen('worker-1 restarting', (s) => /restarting in [1-3]s/.test(row(s, 'worker-1')));
    expect(screen).toMatch(/Active Agents: 2\/2 \(replicas 2\/3\)/);
    screen = await term.waitForScreen('worker-1 running again', (s) => /running\s+\S+\s+\S+\s+2\s/.test(row(s, 'worker-1')));
    expect(screen).toMatch(/worker-1 exited \(crash: killed by SIGKILL\); restarting at \d\d:\d\d:\d\d/);

    // select worker-1, open its details with its last log lines
    term.send('Down');
    await term.waitForScreen('worker-1 selected', (s) => row(s, 'worker-1').startsWith('│ ▸'));
    term.send('Enter');
    screen = await term.waitForScreen('the details pane', (s) => s.includes('Details: worker-1') && s.includes('last log lines:'));
    expect(screen).toMatch(/restarts 2 \(crash 2\)/);
    expect(screen).toMatch(/worker-1\s+welcomed/);
    term.send('Escape');
    await term.waitForScreen('back to events', (s) => s.includes('Recent events'));

    // r asks, y restarts
    const before = await pidOf('worker-1');
    term.send('r');
    await term.waitForScreen('the confirmation', (s) => s.includes('Restart worker-1? y = yes, n = no'));
    term.send('y');
    await term.waitForScreen('the restart accepted', (s) => s.includes('Restart of worker-1 accepted'));
    await waitFor('a new worker-1 process', async () => { const p = await pidOf('worker-1'); return p !== 0 && p !== before; });
    await term.waitForScreen('the manual restart event', (s) => /worker-1 restarted \(manual\)/.test(s));

    // the supervisor goes away and comes back
    await sup.stop();
    await term.waitForScreen('reconnecting', (s) => s.includes('System Status: ○ reconnecting…'));
    sup = await restartSupervisor(sup);
    screen = await term.waitForScreen('reconnected', (s) => s.includes(`supervisor pid ${sup.proc.pid}`) && s.includes('Active Agents: 2/2 (replicas 3/3)'));
    expect(screen).toMatch(/reconnected to the supervisor/);

    term.send('q');
    expect(await term.waitForExit(30_000)).toBe(0);
    expect(term.capture(true)).not.toContain('AgenticScrum Background Monitor'); // the alternate screen is gone
  });

  it('--once in a terminal prints one boxed frame and exits 0', async () => {
    term?.kill();
    term = TmuxSession.start([process.execPath, CLI, 'background', 'monitor', '--once', '--state-dir', sup.stateDir], { cols: 90, rows: 40 });
    expect(await term.waitForExit(30_000)).toBe(0);
    const screen = term.capture(true);
    expect(screen).toMatch(/┌─+┐/);
    expect(screen).toContain('Active Agents: 2/2 (replicas 3/3)');
    expect(row(screen, 'tree-0')).toMatch(/running/);
  });

  it('--once on a pipe prints a plain table without escape codes', async () => {
    const r = await runCli(['background', 'monitor', '--once', '--state-dir', sup.stateDir]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).not.toContain('│');
    expect(r.stdout).toMatch(/^Active Agents: 2\/2 \(replicas 3\/3\)/m);
    expect(r.stdout).toMatch(/^worker-0\s+running/m);
  });

  it('exits 3 with advice when no supervisor runs for the state directory, and 2 on a bad --interval', async () => {
    const none = await runCli(['background', 'monitor', '--once', '--state-dir', path.join(sup.dir, 'nowhere')]);
    expect(none.code).toBe(3);
    expect(none.stderr).toMatch(/No supervisor is running .* Start one with/);
    const bad = await runCli(['background', 'monitor', '--interval', 'soon', '--state-dir', sup.stateDir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--interval: expected seconds between 0.2 and 3600, got "soon"');
  });
});
