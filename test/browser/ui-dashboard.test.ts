/**
 * The web dashboard in a real browser: Debian's chromium driven by playwright-core,
 * against a real supervisor (a child process) running real SDK agents. A missing
 * chromium fails this file (it is never skipped). Waits are on what the page shows,
 * bounded by the config (health check_interval 0.5 s, live snapshot every 1 s)
 * with generous slack.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HealthReportJson } from '../../src/health/report.js';
import type { AgentStatus } from '../../src/supervisor/statusSnapshot.js';
import { cleanup, ROOT, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const TASK_AGENT = path.join(ROOT, 'test/fixtures/agents/taskAgent.mjs');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** What the page shows follows the API within a snapshot (1 s) and a health round (0.5 s); 30 s is for a loaded machine. */
const SHOWN = 30_000;
/** Set UI_SCREENSHOTS=1 to refresh docs/img/*.png. */
const SCREENSHOTS = process.env.UI_SCREENSHOTS === '1';

const agent = (name: string) => ({ name, command: [process.execPath, TASK_AGENT], heartbeat_interval: 0.5, stop_timeout: 1 });

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
      for (const p of ['/api/v1/status', '/api/v1/health', '/api/v1/tasks', '/api/v1/tasks/X', '/api/v1/agents', '/api/v1/events', '/api/v1/ui/session', '/api/v1/ui/stream']) await call('GET', p);
      for (const p of ['/api/v1/agents/qaa/restart', '/api/v1/agents/qaa/stop', '/api/v1/agents/qaa/start', '/api/v1/agents/qaa/reset', '/api/v1/tasks/X/cancel', '/api/v1/tasks/X/retry', '/api/v1/ui/codes', '/api/v1/shutdown']) await call('POST', p);
      out.login = (await fetch('/ui/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code: 'x'.repeat(43) }) })).status;
      return out;
    });
    const { login, ...api } = answers;
    expect(Object.values(api).length).toBe(16);
    for (const [call, code] of Object.entries(api)) expect(code, call).toBe(401);
    expect(login).toBe(401);
    expect(sup.proc.exitCode).toBeNull();
    expect((await sup.api<{ agents: AgentStatus[] }>('GET', '/api/v1/status')).body.agents[0]?.restarts).toBe(0);
  });
});
