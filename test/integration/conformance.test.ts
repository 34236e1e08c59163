import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runConformance, type CheckName, type ConformanceReport } from '../../src/conformance/runConformance.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const broken = (mode: string) => ['python3', `${root}test/fixtures/agents/conformance/broken_agent.py`, mode];
// 1 s heartbeats: the kit's limits (first within 2 intervals, gaps under 3) then hold at load 10.
const opts = { heartbeatMs: 1000, taskTimeoutMs: 20_000 };

/** At most two agents under test at a time (the machine is shared). */
let running = 0;
const queue: (() => void)[] = [];
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= 2) await new Promise<void>((r) => queue.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    queue.shift()?.();
  }
}
const show = (r: ConformanceReport) => r.rows.map((x) => `${x.check}: ${x.result} ${x.detail}`).join('\n') + `\n${r.output.join('\n')}`;

describe('conformance kit: agents that follow docs/protocol.md pass every check', () => {
  const agents: [string, string[]][] = [
    ['the Node SDK (examples/agents/saa.mjs)', ['node', `${root}examples/agents/saa.mjs`]],
    ['the Python SDK (examples/agents/deva_python.py)', ['python3', `${root}examples/agents/deva_python.py`]],
    ['plain Python without the SDK (examples/agents/plain_agent.py)', ['python3', `${root}examples/agents/plain_agent.py`]],
    ['bash (examples/agents/plain_agent.sh)', ['bash', `${root}examples/agents/plain_agent.sh`]],
  ];
  for (const [what, argv] of agents) {
    it.concurrent(what, async () => {
      const r = await limited(() => runConformance({ argv, ...opts }));
      expect(r.rows.map((x) => [x.check, x.result]), show(r)).toEqual(r.rows.map((x) => [x.check, 'pass']));
      expect(r.ok).toBe(true);
      // a whole session both ways: a task that succeeds, one that fails, a shutdown
      const types = r.sessions[0]!.filter((e) => e.dir === 'agent').map((e) => e.message?.type);
      expect(types).toEqual(expect.arrayContaining(['hello', 'heartbeat', 'pong', 'task.finished', 'task.failed']));
    }, 90_000);
  }
});

describe('conformance kit: each of the spec\'s questions answered wrongly fails one clear row', () => {
  const cases: [mode: string, question: string, check: CheckName, detail: RegExp][] = [
    ['correlation_not_echoed', '1, task.started correlation_id', 'task.started', /has correlation_id "mine-[0-9a-f]+", task\.assign gave "[0-9a-f]{32}": echo it unchanged or leave it out/],
    ['duration_string', '2, duration_ms a number', 'task outcome', /report refused, invalid: task\.finished: duration_ms: .*expected number, received string.*duration_ms is a JSON number of milliseconds/],
    ['pong_string_id', '3, ping id an integer', 'ping/pong', /pong refused, invalid: pong: id: .*expected number.*echo ping's id as the same JSON integer/],
    ['one_message_per_read', '4, a stream, not seqpacket', 'stream framing', /no pong for ping \d+ .*byte stream \(SOCK_STREAM\), not one message per read/],
    ['finish_on_shutdown', '5, abandon the task within the deadline', 'shutdown', /still running \d+ ms after shutdown \{deadline_ms: 3000\} with conf-\d+ in flight: .*exit within deadline_ms/],
    ['reply_to_cancel', '6, task.cancel needs no reply', 'cancel', /unknown_type: unknown message type "task\.cancelled".*task\.cancel needs no reply/],
    ['late_first_heartbeat', '7, the first heartbeat is due within the interval', 'heartbeat', /(first heartbeat \d+ ms after welcome|no heartbeat in the \d+ ms after welcome).*heartbeat_interval_ms/],
    ['wrong_task_id', '8, task.finished for an unknown task id', 'task outcome', /task\.finished names "job-1", not the assigned "conf-1": the supervisor ignores it \(unknown_task\)/],
    ['waits_for_supervisor', '9, the conversation: the agent speaks first', 'hello', /no message within 5000 ms: the agent speaks first/],
    ['crash_on_malformed', 'malformed supervisor lines', 'malformed lines', /exited \(code 1\) on malformed supervisor lines/],
  ];
  for (const [mode, question, check, detail] of cases) {
    it.concurrent(`${question}: ${mode}`, async () => {
      const r = await limited(() => runConformance({ argv: broken(mode), ...opts, helloTimeoutMs: mode === 'waits_for_supervisor' ? 5000 : 20_000 }));
      expect(r.ok).toBe(false);
      expect(r.rows.filter((x) => x.result === 'fail').map((x) => x.check), show(r)).toEqual([check]);
      expect(r.rows.find((x) => x.check === check)?.detail).toMatch(detail);
    }, 90_000);
  }
});

describe('background conformance (CLI)', () => {
  const cli = (args: string[]) => spawnSync(process.execPath, [`${root}dist/cli/main.js`, 'background', 'conformance', ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 });

  it('prints a row per check and exits 1 when one fails; --transcript writes both directions', async () => {
    const file = `${root}.agentic/conformance-transcript-${process.pid}.txt`;
    const run = await limited(async () => cli(['--heartbeat-ms', '1000', '--transcript', file, '--', ...broken('reply_to_cancel')]));
    expect(run.status, run.stdout + run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^CHECK\s+RESULT\s+DETAIL$/m);
    expect(run.stdout).toMatch(/^cancel\s+FAIL\s+after task\.cancel the agent sent a refused line/m);
    expect(run.stdout).toMatch(/^hello\s+pass\s+protocol 1/m);
    expect(run.stdout).toMatch(/NOT conformant: 1 check\(s\) failed/);
    const { readFileSync, rmSync } = await import('node:fs');
    const text = readFileSync(file, 'utf8');
    rmSync(file);
    expect(text).toMatch(/supervisor → \{"type":"task\.cancel","task_id":"conf-3","reason":"cancelled"\}/);
    expect(text).toMatch(/agent {6}→ \{"type": "task\.cancelled", "task_id": "conf-3"\} {3}\[refused: unknown_type\]/);
  }, 90_000);

  it('exits 2 with a usage message without an agent command, and for a bad number', () => {
    const none = cli([]);
    expect(none.status).not.toBe(0);
    const bad = cli(['--heartbeat-ms', 'fast', '--', 'true']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--heartbeat-ms: expected a whole number of milliseconds above 0, found "fast"/);
  });
});
