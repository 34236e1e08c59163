import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';
import { smtpServer, unfold } from '../helpers/smtp.js';

/** Escalates within seconds: the 2nd crash opens the breaker (or exhausts the single restart). */
const recovery = { restart_attempts: 1, base_delay: 0.1, circuit_breaker_threshold: 2, breaker_window: 60, breaker_cooldown: 30 };
const crashy = { name: 'crashy', command: ['node', '-e', 'process.exit(3)'] };
const SUBJECT = /^Subject: \[agentic\] crashy-0: (circuit breaker open|restart attempts exhausted)$/m;

interface Payload { version: number; kind: string; agent: string; role: string; replica: string; reason: string; detail: string; at: string; host: string }

/** A loopback webhook; `hang` makes it accept requests and never answer. */
async function webhookServer(hang = false): Promise<{ url: string; bodies: Payload[]; server: Server }> {
  const bodies: Payload[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push(JSON.parse(body) as Payload);
      if (!hang) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`, bodies, server };
}

/** Whether something accepts connections on a loopback port. */
const listening = (port: number) => new Promise<boolean>((r) => {
  const s = connect(port, '127.0.0.1');
  s.once('connect', () => { s.destroy(); r(true); });
  s.once('error', () => r(false));
});
const timed = async <T>(fn: () => Promise<T>) => { const t0 = performance.now(); const v = await fn(); return { v, ms: performance.now() - t0 }; };

describe('escalation through a real SMTP server and a loopback webhook', () => {
  let sup: RunningSupervisor | undefined;
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    cleanup(sup);
    sup = undefined;
    for (const c of closers.splice(0)) await c();
  });

  it('emails the escalation and posts it to the webhook when an agent keeps crashing', async () => {
    const smtp = await smtpServer();
    const hook = await webhookServer();
    closers.push(() => smtp.close(), () => { hook.server.closeAllConnections(); hook.server.close(); });
    sup = await startSupervisor({
      monitoring: {
        recovery,
        alerts: {
          email: { enabled: true, recipients: ['ops@example.com'], from: 'agentic@example.com', smtp: { host: '127.0.0.1', port: smtp.port } },
          webhook: { enabled: true, url: hook.url, timeout: 2, retries: 1 },
        },
      },
      agents: [crashy],
    });

    const mail = await waitFor('the escalation email', () => smtp.mails[0], 20_000);
    expect(mail.to).toEqual(['ops@example.com']);
    const text = unfold(mail.raw);
    expect(text).toMatch(SUBJECT);
    const reason = /^Reason:\s+(circuit_open|restarts_exhausted)/m.exec(text)?.[1];
    expect(reason).toBeDefined();
    expect(text).toContain('Agent:    crashy');
    expect(text).toContain('Replica:  crashy-0');
    expect(text).toContain(`agentic-scrum-setup background reset crashy --state-dir ${sup.stateDir}`);

    const body = await waitFor('the webhook call', () => hook.bodies[0], 10_000);
    expect(body).toMatchObject({ version: 1, kind: 'escalation', agent: 'crashy', role: 'crashy', replica: 'crashy-0', reason });
    expect(Date.parse(body.at)).toBeGreaterThan(Date.now() - 60_000);
    expect(body.host).toBeTruthy();
    // the structured log has it at error level with an `alert` field
    expect(sup.output()).toMatch(new RegExp(`"level":50[^\\n]*"alert":"${reason}"`));
    // one escalation, one email: the same replica and reason are not repeated within the window
    await new Promise((r) => setTimeout(r, 1000));
    expect(smtp.mails).toHaveLength(1);
    // and /metrics tells whether the supervisor's own alerts got through
    const scrape = await (await fetch(`${sup.url}/metrics`)).text();
    expect(scrape).toMatch(/^agentic_escalation_notifications_total\{channel="email",result="sent"\} 1$/m);
    expect(scrape).toMatch(/^agentic_escalation_notifications_total\{channel="webhook",result="sent"\} 1$/m);
    expect(scrape).toMatch(/^agentic_escalation_notifications_total\{channel="email",result="failed"\} 0$/m);
  });

  it('keeps the supervisor responsive while the webhook hangs and the SMTP server is missing', async () => {
    const hook = await webhookServer(true);
    closers.push(() => { hook.server.closeAllConnections(); hook.server.close(); });
    const port25 = await listening(25);
    sup = await startSupervisor({
      monitoring: {
        recovery,
        alerts: {
          // the seed story's shape: email enabled, no smtp section (so 127.0.0.1:25)
          email: { enabled: true, recipients: ['ops@example.invalid'] },
          webhook: { enabled: true, url: hook.url, timeout: 60, retries: 5 },
        },
      },
      agents: [crashy],
    });
    expect(sup.output()).toContain('email alerts go through the local SMTP server 127.0.0.1:25');

    await waitFor('the webhook request (which will hang)', () => hook.bodies.length === 1, 20_000);
    for (let i = 0; i < 5; i++) {
      const { v, ms } = await timed(() => sup!.api<{ agents: { state: string }[] }>('GET', '/api/v1/agents'));
      expect(v.status).toBe(200);
      expect(ms).toBeLessThan(2000); // vs 60 s per webhook attempt; generous for a loaded machine
    }
    // nothing listens on port 25 here, so the email fails: logged, counted, never thrown
    if (!port25) {
      await waitFor('the email failure in the log', () => /email alert for crashy-0 not delivered through SMTP 127\.0\.0\.1:25/.test(sup!.output()), 20_000);
      const text = await (await fetch(`${sup.url}/metrics`)).text();
      expect(text).toMatch(/^agentic_escalation_notifications_total\{channel="email",result="failed"\} 1$/m);
    }
    expect(sup.proc.exitCode).toBeNull();

    // shutting down does not wait for the hung webhook (60 s × 6 attempts)
    const { v: code, ms } = await timed(() => sup!.stop());
    expect(code).toBe(0);
    expect(ms).toBeLessThan(10_000);
  });
});
