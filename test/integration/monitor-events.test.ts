import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, cleanup, restartSupervisor, ROOT, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { TmuxSession } from '../helpers/tmux.js';

/**
 * "Recent events" starts from the supervisor's durable event log (GET /api/v1/events):
 * a monitor opened after three restarts shows them, and so does one opened after the
 * supervisor itself restarted.
 */

const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');

interface EventView { id: number; at: string; agent: string | null; replica: string | null; kind: string; detail: Record<string, unknown> }
interface StatusBody { agents: { replica: string; pid: number | null; state: string; restarts: number }[] }

describe('the event log behind the monitor\'s "Recent events"', () => {
  let sup: RunningSupervisor;
  let term: TmuxSession | undefined;

  const running = (restarts: number) => waitFor(`w-0 running after ${restarts} restart(s)`, async () => {
    const a = (await sup.api<StatusBody>('GET', '/api/v1/status')).body.agents.find((x) => x.replica === 'w-0');
    return a?.state === 'running' && a.restarts === restarts;
  });

  beforeAll(async () => {
    sup = await startSupervisor({ agents: [{ name: 'w', command: ['node', WORKER] }] });
    await running(0);
    for (let i = 1; i <= 3; i++) {
      expect((await sup.api('POST', '/api/v1/agents/w-0/restart', {})).status).toBe(202);
      await running(i);
    }
  });

  afterAll(() => {
    term?.kill();
    cleanup(sup);
  });

  it('GET /api/v1/events needs the API token and lists exits and supervisor starts newest first, naming agent and replica', async () => {
    const none = await fetch(`${sup.url}/api/v1/events`);
    expect(none.status).toBe(401);
    expect(await none.json()).toEqual({ error: 'unauthorized', reason: 'send Authorization: Bearer <token>, or log in to the web dashboard with the URL `background ui` prints' });
    const bad = await sup.api<{ error: string; reason: string }>('GET', '/api/v1/events?limit=lots');
    expect(bad.status).toBe(400);
    expect(bad.body.reason).toMatch(/limit/);

    const { status, body } = await sup.api<{ events: EventView[] }>('GET', '/api/v1/events');
    expect(status).toBe(200);
    const exits = body.events.filter((e) => e.kind === 'exit');
    expect(exits).toHaveLength(3);
    for (const e of exits) expect(e).toMatchObject({ agent: 'w', replica: 'w-0', detail: { reason: 'manual restart' } });
    expect(body.events.at(-1)).toMatchObject({ kind: 'supervisor', agent: null, replica: null, detail: { message: expect.stringMatching(/^started \(pid \d+\)$/) } });
    const ids = body.events.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect((await sup.api<{ events: EventView[] }>('GET', '/api/v1/events?limit=2')).body.events).toHaveLength(2);
  });

  it('a monitor opened now shows the three restarts in "Recent events" from its first frame (plain and in tmux)', async () => {
    const plain = await sup.cli(['background', 'monitor', '--once', '--plain']);
    expect(plain.code, plain.stderr).toBe(0);
    const recent = plain.stdout.slice(plain.stdout.indexOf('Recent events:'));
    expect(recent.match(/w-0 exited \(manual restart\)/g)).toHaveLength(3);
    expect(recent).toMatch(/supervisor started \(pid \d+\)/);

    term = TmuxSession.start([process.execPath, CLI, 'background', 'monitor', '--state-dir', sup.stateDir], { cols: 100, rows: 30 });
    const screen = await term.waitForScreen('the first frame', (s) => s.includes('Recent events') && s.includes('w-0'));
    expect(screen.match(/\d\d:\d\d:\d\d w-0 exited \(manual restart\)/g)).toHaveLength(3);
    term.send('q');
    await waitFor('the monitor to quit', () => term?.exitStatus() !== undefined);
    term.kill();
    term = undefined;
  }, 120_000);

  it('keeps the history across a supervisor restart: the next monitor shows the stop and both starts', async () => {
    expect(await sup.stop()).toBe(0);
    sup = await restartSupervisor(sup);
    await running(0);
    const plain = await sup.cli(['background', 'monitor', '--once', '--plain']);
    expect(plain.code, plain.stderr).toBe(0);
    const recent = plain.stdout.slice(plain.stdout.indexOf('Recent events:'));
    expect(recent).toMatch(/supervisor started \(pid \d+\)/);
    expect(recent).toMatch(/supervisor stopped \(received SIGTERM\)/);
    expect(recent).toMatch(/w-0 exited \(received SIGTERM\)/);
  }, 120_000);
});
