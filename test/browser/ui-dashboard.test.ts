/**
 * The web dashboard in a real browser: Debian's chromium driven by playwright-core,
 * against a real supervisor (a child process) running real SDK agents. A missing
 * chromium fails this file (it is never skipped). Waits are on what the page shows,
 * bounded by the config (health check_interval 0.5 s, live snapshot every 1 s)
 * with generous slack.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthReportJson } from '../../src/health/report.js';
import type { AttemptRecord } from '../../src/queue/Task.js';
import type { TaskLogLine } from '../../src/server/taskLogRoute.js';
import type { LlmReport } from '../../src/store/llmReport.js';
import type { AgentStatus } from '../../src/supervisor/statusSnapshot.js';
import { cleanup, ROOT, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { alert, payload } from '../unit/controller/helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const TASK_AGENT = path.join(ROOT, 'test/fixtures/agents/taskAgent.mjs');
/** A stand-in for `claude -p … --output-format stream-json` (the real CLI needs an account and the network): a known 3-turn conversation. */
const TRANSCRIPT = path.join(ROOT, 'test/fixtures/claude/transcript.mjs');
const WORKER = path.join(ROOT, 'test/fixtures/agents/worker.mjs');
/** The demo's stand-in for claude; FAKE_CLAUDE_HANG=1 hangs after its first turn (a run stays in flight). */
const FAKE_CLAUDE = path.join(ROOT, 'examples/agents/fake-claude.mjs');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** What the page shows follows the API within a snapshot (1 s) and a health round (0.5 s); 30 s is for a loaded machine. */
const SHOWN = 30_000;
/** Set UI_SCREENSHOTS=1 to refresh docs/img/*.png. */
const SCREENSHOTS = process.env.UI_SCREENSHOTS === '1';

const agent = (name: string) => ({ name, command: [process.execPath, TASK_AGENT], heartbeat_interval: 0.5, stop_timeout: 1 });

/** Presses Tab (at most 60 times) until the focused element matches `what` (a JS predicate on `el`); returns whether it got there. */
async function tabTo(page: Page, what: string): Promise<boolean> {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate<boolean>(`(() => { const el = document.activeElement; return !!el && (${what}); })()`)) return true;
  }
  return false;
}

async function browser(): Promise<{ ctx: BrowserContext; dir: string }> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium package (.ci/run does); the browser tests never skip`);
  const dir = mkdtempSync(path.join(tmpdir(), 'agentic-chromium-'));
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1400, height: 900 } });
  return { ctx, dir };
}

describe('the web dashboard in chromium', () => {
  let sup: RunningSupervisor;
  let b: { ctx: BrowserContext; dir: string };
  let page: Page;
  const status = async () => (await sup.api<{ agents: AgentStatus[] }>('GET', '/api/v1/status')).body;
  const row = (replica: string) => page.locator(`tr[data-replica="${replica}"]`);

  beforeAll(async () => {
    sup = await startSupervisor({
      monitoring: {
        check_interval: 0.5,
        sample_interval: 0.5,
        health_checks: { agent_response: { timeout: 0.5, max_failures: 2, heartbeat_miss_multiplier: 3 } },
        recovery: { restart_unhealthy: false },
      },
      agents: [agent('qaa'), agent('sma')],
    });
    await waitFor('both agents to run', async () => (await status()).agents.every((a) => a.state === 'running' && a.pid));
    b = await browser();
    page = await b.ctx.newPage();
    const code = await sup.api<{ path: string }>('POST', '/api/v1/ui/codes');
    expect(code.status).toBe(201);
    await page.goto(`${sup.url}${code.body.path}`);
  }, 90_000);

  afterAll(async () => {
    await b?.ctx.close();
    if (b) rmSync(b.dir, { recursive: true, force: true });
    cleanup(sup);
  });

  it('logs in with the one-time code, removes it from the address bar, and lists every replica with its state and pid', async () => {
    await row('qaa-0').waitFor({ timeout: SHOWN });
    expect(page.url()).not.toContain('login=');
    expect(page.url()).toBe(`${sup.url}/ui/#/`);
    for (const a of (await status()).agents) {
      await expect.poll(() => row(a.replica).locator('td.pid').textContent(), { timeout: SHOWN }).toBe(String(a.pid));
      expect(await row(a.replica).textContent()).toContain('running');
    }
    expect(await page.locator('header [role=status]').textContent()).toContain('live');
  });

  it('updates without a reload when a task completes', async () => {
    await page.evaluate('window.__noReload = true');
    const r = await sup.api<{ task: { id: string } }>('POST', '/api/v1/tasks', { role: 'qaa', title: 'ui story', id: 'UI_1', payload: { sleep_ms: 300 } });
    expect(r.status).toBe(201);
    await page.getByText(/Queue: 0 pending, 0 in progress, 1 completed/).waitFor({ timeout: SHOWN });
    await page.goto(`${sup.url}/ui/#/tasks?status=completed`);
    await page.locator('a[href="#/task/UI_1"]').waitFor({ timeout: SHOWN });
    expect(await page.getByRole('link', { name: /Completed \(1\)/ }).getAttribute('aria-current')).toBe('page');
    await page.goto(`${sup.url}/ui/#/`);
    expect(await page.evaluate('window.__noReload === true')).toBe(true); // the same document all along
  });

  it('restarts an agent after a confirmation, and shows its new pid', async () => {
    const old = (await status()).agents.find((a) => a.replica === 'qaa-0')?.pid;
    await row('qaa-0').getByRole('button', { name: 'Restart qaa-0' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('Restart qaa-0');
    await dialog.getByRole('button', { name: 'Restart' }).click();
    await page.getByText('Restart of qaa-0 accepted.').waitFor({ timeout: SHOWN });
    const pid = await waitFor('a new pid', async () => { const a = (await status()).agents.find((x) => x.replica === 'qaa-0'); return a?.state === 'running' && a.pid !== old ? a.pid : undefined; }, SHOWN);
    await expect.poll(() => row('qaa-0').locator('td.pid').textContent(), { timeout: SHOWN }).toBe(String(pid));
    expect(await row('qaa-0').locator('td.num').textContent()).toBe('1');
  });

  it('cancels and retries a task from its page, each after a confirmation', async () => {
    expect((await sup.api('POST', '/api/v1/tasks', { role: 'qaa', title: 'waits for ever', id: 'UI_2', payload: { wait_abort: true } })).status).toBe(201);
    await page.goto(`${sup.url}/ui/#/task/UI_2`);
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel task' }).click();
    await page.getByText('Task UI_2 cancelled.').waitFor({ timeout: SHOWN });
    await page.locator('#task-title + p .badge', { hasText: 'cancelled' }).waitFor({ timeout: SHOWN });
    expect((await sup.api<{ task: { status: string } }>('GET', '/api/v1/tasks/UI_2')).body.task.status).toBe('cancelled');
    if (SCREENSHOTS) await page.screenshot({ path: path.join(ROOT, 'docs/img/ui-task.png'), fullPage: true });

    await page.getByRole('button', { name: 'Retry task' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Retry task' }).click();
    await page.getByText('Task UI_2 is pending again.').waitFor({ timeout: SHOWN });
    const t = (await sup.api<{ task: { status: string; retries: { detail: string }[] } }>('GET', '/api/v1/tasks/UI_2')).body.task;
    expect(['pending', 'in_progress']).toContain(t.status);
    expect(t.retries.map((x) => x.detail)).toEqual(['retried from the web dashboard']);
    await page.getByRole('button', { name: 'Cancel task' }).waitFor({ timeout: SHOWN });
  });

  it('walks the fleet table with the keyboard alone: every action button is reachable, Enter opens the confirmation on Cancel, Escape closes it', async () => {
    await page.goto(`${sup.url}/ui/#/`);
    await row('sma-0').waitFor({ timeout: SHOWN });
    await page.locator('body').focus();
    const seen: string[] = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      seen.push(await page.evaluate<string>("(() => { const el = document.activeElement; return el ? `${el.tagName} ${el.textContent.trim()} @${el.closest('tr')?.getAttribute('data-replica') ?? ''}` : ''; })()"));
      if (seen.at(-1)?.startsWith('BUTTON Stop sma-0')) break;
    }
    expect(seen).toEqual(expect.arrayContaining(['BUTTON Restart qaa-0 @qaa-0', 'BUTTON Stop qaa-0 @qaa-0', 'BUTTON Restart sma-0 @sma-0', 'BUTTON Stop sma-0 @sma-0']));
    expect(seen.indexOf('BUTTON Restart qaa-0 @qaa-0')).toBeLessThan(seen.indexOf('BUTTON Restart sma-0 @sma-0'));
    // back to sma-0's Restart, open its confirmation with Enter: the focus is on Cancel
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').waitFor();
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Cancel');
    const pid = (await status()).agents.find((a) => a.replica === 'sma-0')?.pid;
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    expect((await status()).agents.find((a) => a.replica === 'sma-0')?.pid).toBe(pid);
  });

  it('shows a SIGSTOPped agent unhealthy with the reason of `health`, without a reload', async () => {
    const pid = (await status()).agents.find((a) => a.replica === 'sma-0')?.pid as number;
    process.kill(pid, 'SIGSTOP');
    try {
      const finding = await waitFor('the health report to name the fault', async () => {
        const h = (await sup.api<HealthReportJson>('GET', '/api/v1/health?agent=sma-0')).body;
        return h.agents[0]?.verdict === 'unhealthy' ? h.agents[0].findings.find((f) => f.severity === 'unhealthy') : undefined;
      }, SHOWN);
      await row('sma-0').locator('td.verdict', { hasText: 'unhealthy' }).waitFor({ timeout: SHOWN });
      await expect.poll(async () => row('sma-0').locator('td.verdict .reason').textContent(), { timeout: SHOWN }).toContain(`${finding.check}/`);
      // the same diagnosis sentence as `health` (its measured figures move on every round, so they are compared as #)
      const shape = (m: string) => m.replace(/[0-9]+(\.[0-9]+)?/g, '#');
      await expect.poll(async () => {
        const shown = shape((await row('sma-0').locator('td.verdict .reason').textContent()) ?? '');
        const api = (await sup.api<HealthReportJson>('GET', '/api/v1/health?agent=sma-0')).body.agents[0]?.findings ?? [];
        return [finding, ...api].some((f) => shown.includes(shape(`${f.check}/${f.kind}: ${f.message}`)));
      }, { timeout: SHOWN }).toBe(true);
      expect(await row('qaa-0').locator('td.verdict').textContent()).toContain('healthy');
      if (SCREENSHOTS) await page.screenshot({ path: path.join(ROOT, 'docs/img/ui-fleet.png'), fullPage: true });
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });
});

describe('the task page, Alerts and System in chromium', () => {
  let sup: RunningSupervisor;
  let b: { ctx: BrowserContext; dir: string };
  let page: Page;
  type TaskJson = { id: string; status: string; priority: number; correlation_id: string; attempt_history: AttemptRecord[] };
  const task = async (id: string) => (await sup.api<{ task: TaskJson }>('GET', `/api/v1/tasks/${id}`)).body.task;
  const open = async (hash: string) => {
    await page.goto(`${sup.url}/ui/${hash}`);
    await page.locator('main').waitFor({ timeout: SHOWN });
  };

  beforeAll(async () => {
    sup = await startSupervisor({
      queue: { max_attempts: 2, retry_backoff: { initial: 0.1, jitter: 0 } },
      monitoring: {
        check_interval: 0.5,
        sample_interval: 0.5,
        recovery: { restart_attempts: 3, base_delay: 0.1, max_delay: 0.5, circuit_breaker_threshold: 2, breaker_window: 60, breaker_cooldown: 600, stable_uptime: 30 },
      },
      agents: [
        { name: 'deva', mode: 'per_task', command: ['node', TRANSCRIPT, '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'], stdout_adapter: 'claude-stream-json', stop_timeout: 2 },
        agent('qaa'),
        // crashes on start: its breaker opens, an escalation
        { name: 'loop', command: ['node', WORKER], env: { WORKER_CRASH_ON_START: '1' } },
        { name: 'stuck', mode: 'per_task', command: ['node', FAKE_CLAUDE, '-p', '{prompt}', '--output-format', 'stream-json', '--verbose'], stdout_adapter: 'claude-stream-json', env: { FAKE_CLAUDE_DELAY_MS: '0', FAKE_CLAUDE_HANG: '1' }, stop_timeout: 2 },
      ],
    });
    expect((await sup.api('POST', '/api/v1/tasks', { role: 'deva', title: 'a claude story', prompt: 'ship it', id: 'CL_1' })).status).toBe(201);
    expect((await sup.api('POST', '/api/v1/tasks', { role: 'qaa', title: 'fails twice', id: 'FLAKY', payload: { fail: true } })).status).toBe(201);
    await waitFor('CL_1 to complete and FLAKY to be dead-lettered', async () => (await task('CL_1')).status === 'completed' && (await task('FLAKY')).status === 'failed', 60_000);
    b = await browser();
    page = await b.ctx.newPage();
    const code = await sup.api<{ path: string }>('POST', '/api/v1/ui/codes');
    await page.goto(`${sup.url}${code.body.path}`);
    await page.locator('tr[data-replica="qaa-0"]').waitFor({ timeout: SHOWN });
  }, 120_000);

  afterAll(async () => {
    await b?.ctx.close();
    if (b) rmSync(b.dir, { recursive: true, force: true });
    cleanup(sup);
  });

  it('a task page lists every attempt with its cause and detail, as the API has them', async () => {
    const t = await task('FLAKY');
    expect(t.attempt_history.map((a) => a.cause)).toEqual(['agent_failed', 'agent_failed']);
    await open('#/task/FLAKY');
    const rows = page.locator('table.attempts tbody tr');
    await expect.poll(() => rows.count(), { timeout: SHOWN }).toBe(2);
    for (const [i, a] of t.attempt_history.entries()) {
      const cells = await rows.nth(i).locator('th, td').allTextContents();
      expect(cells[0]).toBe(String(a.n));
      expect(cells[1]).toBe(`qaa-${a.replica}`);
      expect(cells[4]).toContain('agent failed'); // the cause in words, not only a colour
      expect(cells[5]).toBe(a.detail);
      expect(a.detail).toContain('transient failure');
    }
    expect(await page.locator('#task-title + p .badge').textContent()).toContain('failed');
  });

  it('a task page shows its log lines by correlation id, the lines of `background logs --correlation-id`', async () => {
    const t = await task('FLAKY');
    const api = (await sup.api<{ total: number; lines: TaskLogLine[] }>('GET', '/api/v1/tasks/FLAKY/logs')).body;
    expect(api.total).toBeGreaterThan(0);
    await open('#/task/FLAKY');
    await page.locator('table.logs').waitFor({ timeout: SHOWN });
    expect(await page.locator('dd code').first().textContent()).toBe(t.correlation_id);
    const rows = page.locator('table.logs tbody tr');
    // lines may only be added (the supervisor logs on), never differ
    expect(await rows.count()).toBeGreaterThanOrEqual(api.lines.length);
    for (const [i, l] of api.lines.entries()) {
      const cells = await rows.nth(i).locator('td').allTextContents();
      expect(cells.slice(1)).toEqual([l.level, l.who, l.msg]);
    }
    expect(api.lines.map((l) => l.msg)).toContain('fixture working'); // the agent's own line, by its task's correlation id
  });

  it('a Claude run\'s task page shows its stream as a transcript, with its LLM usage', async () => {
    await open('#/task/CL_1');
    const parts = page.locator('ol.transcript > li');
    await expect.poll(() => parts.count(), { timeout: SHOWN }).toBe(8);
    expect(await parts.evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))).toEqual(['session', 'text', 'tool', 'tool_result', 'tool', 'tool_error', 'text', 'result']);
    // every piece says what it is in words (the colour of its border only repeats it)
    expect(await page.locator('ol.transcript .part-label').allTextContents()).toEqual(['Session', 'Assistant', 'Tool call', 'Tool result', 'Tool call', 'Tool error', 'Assistant', 'Result']);
    expect(await parts.nth(1).locator('.say').textContent()).toBe("I'll read the note first.\nThen I will run the tests.");
    expect(await parts.nth(2).textContent()).toContain('Read notes/todo.txt');
    expect(await parts.nth(5).textContent()).toContain('Error: 2 tests failed');
    expect(await parts.nth(7).textContent()).toContain('success, 3 turns, $0.3125');
    expect(await page.getByRole('list', { name: 'Transcript of the Claude run' }).count()).toBe(1);
    const facts = await page.locator('dl.facts').textContent();
    expect(facts).toContain('LLM usage, all attempts1 run, 3 turns, $0.3125');
    expect(await page.locator('table.attempts tbody tr td').nth(3).textContent()).toContain('completed');
    if (SCREENSHOTS) await page.screenshot({ path: path.join(ROOT, 'docs/img/ui-task.png'), fullPage: true });
  });

  it('the fleet shows a Claude run in flight with its turns, tokens and cost so far', async () => {
    expect((await sup.api('POST', '/api/v1/tasks', { role: 'stuck', title: 'hangs after one turn', prompt: 'Add coupon validation', id: 'RUN_1' })).status).toBe(201);
    const run = await waitFor('the run in flight with its estimated cost', async () => {
      const r = (await sup.api<{ agents: AgentStatus[] }>('GET', '/api/v1/status')).body.agents.find((a) => a.agent === 'stuck')?.runs?.[0];
      return r && r.turns >= 1 && r.cost_usd_estimated !== null ? r : undefined;
    }, SHOWN);
    await open('#/');
    const li = page.locator('tr[data-replica="stuck"] ul.runs li');
    await expect.poll(() => li.textContent(), { timeout: SHOWN }).toBe(`RUN_1 on ${run.slot}: ${run.turns} turns, ${run.tokens} tokens, about $${run.cost_usd_estimated?.toFixed(4)} so far`);
    expect(run.cost_usd_estimated).toBeGreaterThan(0);
    expect((await sup.api('POST', '/api/v1/tasks/RUN_1/cancel')).status).toBe(200);
    await li.waitFor({ state: 'detached', timeout: SHOWN });
  });

  it('resets an open breaker from the fleet after a confirmation: the replica starts again', async () => {
    const loop = async () => (await sup.api<{ agents: AgentStatus[] }>('GET', '/api/v1/status')).body.agents.find((a) => a.replica === 'loop-0');
    await waitFor('loop-0\'s breaker to open', async () => (await loop())?.breaker === 'open', 60_000);
    await open('#/');
    const reset = page.locator('tr[data-replica="loop-0"]').getByRole('button', { name: 'Reset breaker loop-0' });
    await reset.waitFor({ timeout: SHOWN });
    expect(await page.locator('tr[data-replica="loop-0"] td').nth(6).textContent()).toContain('open'); // the breaker in words
    await reset.click();
    await page.getByRole('dialog').getByRole('button', { name: 'Reset breaker' }).click();
    await page.getByText('Breaker of loop-0 reset.').waitFor({ timeout: SHOWN });
    await waitFor('loop-0 started by hand', async () => ((await loop())?.restarts_by_reason.manual ?? 0) >= 1, SHOWN);
  });

  it('the Alerts view, reached with the keyboard, shows the escalation of a crash-looping agent and the recovery controller\'s decision', async () => {
    await waitFor('loop to escalate (its breaker opens)', async () => (await sup.api<{ events: unknown[] }>('GET', '/api/v1/events?kind=escalation')).body.events.length > 0, 60_000);
    // a real Alertmanager notification to the controller inside the supervisor: restart qaa-0
    const hook = readFileSync(path.join(sup.stateDir, 'webhook.token'), 'utf8').trim();
    const res = await fetch(`${sup.url}/api/v1/alerts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${hook}`, 'content-type': 'application/json' },
      body: JSON.stringify(payload(alert({ labels: { instance: new URL(sup.url).host } }))),
    });
    expect(res.status).toBe(202);
    const decision = await waitFor('the decision', async () => (await sup.api<{ decisions: { alertname: string; target: string | null; result: string }[] }>('GET', '/api/v1/alerts/decisions')).body.decisions[0]);
    expect(decision).toMatchObject({ alertname: 'AgentUnresponsive', target: 'qaa-0', result: 'acted' });

    await open('#/');
    await page.locator('body').focus();
    expect(await tabTo(page, "el.tagName === 'A' && el.textContent.trim() === 'Alerts'")).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate('location.hash'), { timeout: SHOWN }).toBe('#/alerts');
    expect(await page.getByRole('link', { name: 'Alerts' }).getAttribute('aria-current')).toBe('page');
    const esc = page.locator('table.escalations tbody tr', { has: page.locator('th', { hasText: 'loop-0' }) }).first();
    await esc.waitFor({ timeout: SHOWN });
    expect(await esc.locator('.badge').textContent()).toMatch(/circuit open|restarts exhausted/);
    const dec = page.locator('table.decisions tbody tr', { hasText: 'AgentUnresponsive' }).first();
    await dec.waitFor({ timeout: SHOWN });
    const cells = await dec.locator('td').allTextContents();
    expect(cells.slice(1, 3)).toEqual(['firing', 'qaa-0']);
    expect(await dec.locator('.badge').textContent()).toContain('acted'); // the result in words
  });

  it('the System view, reached with the keyboard, shows the verdict, capacity by role, host CPU, memory and disk, and the LLM cost of the last hour', async () => {
    await open('#/');
    await page.locator('body').focus();
    expect(await tabTo(page, "el.tagName === 'A' && el.textContent.trim() === 'System'")).toBe(true);
    await page.keyboard.press('Enter');
    await expect.poll(() => page.evaluate('location.hash'), { timeout: SHOWN }).toBe('#/system');
    await page.locator('table.capacity').waitFor({ timeout: SHOWN });
    // the verdict in words, the one `health` gives (a crash-looping agent: not healthy)
    await expect.poll(async () => {
      const shown = (await page.locator('#system-title + p .badge').textContent()) ?? '';
      const v = (await sup.api<HealthReportJson>('GET', '/api/v1/health')).body.system.verdict;
      return v !== 'healthy' && shown.endsWith(v);
    }, { timeout: SHOWN }).toBe(true);
    const h = (await sup.api<HealthReportJson>('GET', '/api/v1/health')).body;
    for (const [role, c] of Object.entries(h.system.capacity)) {
      const cells = await page.locator(`table.capacity tr[data-role="${role}"] td`).allTextContents();
      expect(cells[0], role).toBe(String(c.configured));
    }
    // the crash-looping role has no healthy replica, said in words
    await expect.poll(() => page.locator('table.capacity tr[data-role="loop"] .badge').textContent(), { timeout: SHOWN }).toContain('none');
    const host = await page.locator('dl.host').textContent();
    expect(host).toMatch(/CPU([0-9.]+%|measuring…) of \d+ cores, load /);
    expect(host).toMatch(/Memory[0-9.]+% used, .+ available of /);
    expect(host).toMatch(/Disk \S+?\d+% used, .+ free of /);
    // CL_1's $0.3125 as its result says, and the cancelled RUN_1's estimate
    const llm = (await sup.api<LlmReport>('GET', '/api/v1/llm?window=1h&stories=1')).body.total;
    expect(llm.runs).toBe(2);
    expect(llm.cost_usd).toBeGreaterThan(0.3125);
    await expect.poll(() => page.locator('[data-figure="cost-1h"]').textContent(), { timeout: SHOWN })
      .toBe(`$${llm.cost_usd.toFixed(2)} over 2 runs, ${llm.turns} turns, ${llm.input_tokens + llm.output_tokens + llm.cache_tokens} tokens`);
  });

  it('follows the system\'s light or dark setting, the new views too', async () => {
    await open('#/system');
    await page.locator('table.capacity').waitFor({ timeout: SHOWN });
    const colours = () => page.evaluate<[string, string]>("[getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.querySelector('table.capacity th')).color]");
    try {
      await page.emulateMedia({ colorScheme: 'dark' });
      expect(await colours()).toEqual(['rgb(13, 17, 23)', 'rgb(230, 237, 243)']);
      await page.emulateMedia({ colorScheme: 'light' });
      expect(await colours()).toEqual(['rgb(255, 255, 255)', 'rgb(27, 31, 36)']);
    } finally {
      await page.emulateMedia({ colorScheme: null });
    }
  });

  it('stops an agent from the fleet, re-prioritises a pending task from its page with the keyboard alone, and starts the agent again, each after a confirmation', async () => {
    const qaa = async () => (await sup.api<{ agents: AgentStatus[] }>('GET', '/api/v1/status')).body.agents.find((a) => a.replica === 'qaa-0');
    await open('#/');
    await page.locator('tr[data-replica="qaa-0"]').getByRole('button', { name: 'Stop qaa-0' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Stop' }).click();
    await page.getByText('qaa-0 stopped.').waitFor({ timeout: SHOWN });
    expect((await qaa())?.state).toBe('stopped');
    await page.locator('tr[data-replica="qaa-0"] .badge', { hasText: 'stopped' }).waitFor({ timeout: SHOWN });
    expect((await sup.api('POST', '/api/v1/tasks', { role: 'qaa', title: 'waits its turn', id: 'PRI_1', priority: 3 })).status).toBe(201);
    await open('#/task/PRI_1');
    await page.getByLabel('New priority (1 lowest, 10 highest)').waitFor({ timeout: SHOWN });
    await page.locator('body').focus();
    expect(await tabTo(page, "el.id === 'priority-select'")).toBe(true);
    await page.keyboard.press('8'); // a select's type-ahead: the option that starts with 8
    await page.keyboard.press('Tab');
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Change priority');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('from 3 to 8');
    expect(await page.evaluate<string>('document.activeElement.textContent')).toBe('Cancel');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText('Task PRI_1 now has priority 8.').waitFor({ timeout: SHOWN });
    expect((await task('PRI_1')).priority).toBe(8);
    await expect.poll(() => page.locator('dl.facts dt:text-is("Priority") + dd').textContent(), { timeout: SHOWN }).toBe('8');

    await open('#/');
    await page.locator('tr[data-replica="qaa-0"]').getByRole('button', { name: 'Start qaa-0', exact: true }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Start', exact: true }).click();
    await page.getByText('qaa-0 started.').waitFor({ timeout: SHOWN });
    await waitFor('PRI_1 to run on the started qaa-0', async () => (await task('PRI_1')).status === 'completed', SHOWN);
  });
});

describe('the web dashboard without a login', () => {
  let sup: RunningSupervisor;
  let b: { ctx: BrowserContext; dir: string };

  beforeAll(async () => {
    sup = await startSupervisor({ agents: [agent('qaa')] });
    b = await browser();
  }, 90_000);
  afterAll(async () => {
    await b?.ctx.close();
    if (b) rmSync(b.dir, { recursive: true, force: true });
    cleanup(sup);
  });

  it('says so, and every API call from the page fails with 401 (reads, actions and the live stream)', async () => {
    const page = await b.ctx.newPage();
    await page.goto(`${sup.url}/ui/`);
    await page.getByText('You are not logged in.').waitFor({ timeout: SHOWN });
    const answers = await page.evaluate(async () => {
      const out: Record<string, number> = {};
      const call = async (method: string, p: string) => {
        const r = await fetch(p, { method, headers: { 'content-type': 'application/json', 'x-agentic-csrf': 'guess' }, body: method === 'POST' ? '{}' : undefined });
        out[`${method} ${p}`] = r.status;
      };
      for (const p of ['/api/v1/status', '/api/v1/health', '/api/v1/tasks', '/api/v1/tasks/X', '/api/v1/tasks/X/logs', '/api/v1/agents', '/api/v1/events', '/api/v1/events?kind=escalation', '/api/v1/alerts/decisions', '/api/v1/llm?window=1h', '/api/v1/ui/session', '/api/v1/ui/stream']) await call('GET', p);
      for (const p of ['/api/v1/agents/qaa/restart', '/api/v1/agents/qaa/stop', '/api/v1/agents/qaa/start', '/api/v1/agents/qaa/reset', '/api/v1/tasks/X/cancel', '/api/v1/tasks/X/retry', '/api/v1/tasks/X/priority', '/api/v1/ui/codes', '/api/v1/shutdown']) await call('POST', p);
      out.login = (await fetch('/ui/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'x'.repeat(43) }) })).status;
      return out;
    });
    const { login, ...api } = answers;
    expect(Object.values(api).length).toBe(21);
    for (const [call, code] of Object.entries(api)) expect(code, call).toBe(401);
    expect(login).toBe(401);
    expect(sup.proc.exitCode).toBeNull();
    expect((await sup.api<{ agents: AgentStatus[] }>('GET', '/api/v1/status')).body.agents[0]?.restarts).toBe(0);
  });
});
