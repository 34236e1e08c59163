import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { EmailNotifier, type EmailNotifierOptions } from '../../../src/recovery/escalation/EmailNotifier.js';
import type { AlertLog, Escalation } from '../../../src/recovery/escalation/Notifier.js';

interface Mail { from: string; to: string[]; raw: string; user: string | undefined }

/** A real SMTP server on a random loopback port that keeps every message. */
async function smtp(extra: Partial<SMTPServerOptions> = {}): Promise<{ port: number; mails: Mail[]; server: SMTPServer }> {
  const mails: Mail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, cb) {
      let raw = '';
      stream.on('data', (d: Buffer) => (raw += d.toString('utf8')));
      stream.on('end', () => {
        const env = session.envelope;
        mails.push({ from: env.mailFrom ? env.mailFrom.address : '', to: env.rcptTo.map((r) => r.address), raw, user: session.user as string | undefined });
        cb();
      });
    },
    ...extra,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.server.address() as AddressInfo).port, mails, server };
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const unfold = (raw: string) => raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/\r\n/g, '\n');
const errors: string[] = [];
const log: AlertLog = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: (_o, m) => errors.push(m) };
const esc: Escalation = { agent: 'qaa', role: 'qaa', slot: 'qaa-0', reason: 'circuit_open', detail: '5 failures within 300s', at: Date.UTC(2025, 0, 2, 3, 4, 5) };
const until = async (ok: () => boolean, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('EmailNotifier against a real SMTP server', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    errors.length = 0;
  });
  const make = (o: Omit<EmailNotifierOptions, 'log' | 'recipients' | 'from'> & Partial<EmailNotifierOptions>) => {
    const n = new EmailNotifier({ recipients: ['ops@example.com', 'dev@example.com'], from: 'supervisor@example.com', log, backoff: { initialDelayMs: 20, maxDelayMs: 50 }, host: 'box1', ...o });
    cleanups.push(() => n.close(0));
    return n;
  };
  const serve = async (extra?: Partial<SMTPServerOptions>) => {
    const s = await smtp(extra);
    cleanups.push(() => new Promise((r) => s.server.close(() => r(undefined))));
    return s;
  };

  it('sends a readable subject and a body that says what happened and what to do next', async () => {
    const s = await serve();
    const n = make({ smtp: { host: '127.0.0.1', port: s.port, secure: false }, stateDir: '/var/lib/agentic' });
    n.notify(esc);
    await until(() => n.counters().sent === 1);
    const mail = s.mails[0]!;
    expect(mail.from).toBe('supervisor@example.com');
    expect(mail.to).toEqual(['ops@example.com', 'dev@example.com']);
    const text = unfold(mail.raw);
    expect(text).toMatch(/^Subject: \[agentic\] qaa-0: circuit breaker open$/m);
    expect(text).toMatch(/^X-Agentic-Alert: circuit_open$/m);
    for (const want of ['Agent:    qaa', 'Role:     qaa', 'Replica:  qaa-0', 'Reason:   circuit_open', 'Detail:   5 failures within 300s', 'Time:     2025-01-02T03:04:05.000Z', 'Host:     box1',
      'agentic-scrum-setup background status --state-dir /var/lib/agentic', 'agentic-scrum-setup background logs qaa', 'agentic-scrum-setup background reset qaa --state-dir /var/lib/agentic']) {
      expect(text).toContain(want);
    }
  });

  it('logs in with the username and the password read from password_file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'agentic-smtp-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'smtp.pass');
    writeFileSync(file, 's3cret\n', { mode: 0o600 });
    const s = await serve({
      authOptional: false, allowInsecureAuth: true,
      onAuth: (auth, _session, cb) => (auth.username === 'alerts' && auth.password === 's3cret' ? cb(null, { user: auth.username }) : cb(new Error('bad login'))),
    });
    const n = make({ smtp: { host: '127.0.0.1', port: s.port, secure: false, username: 'alerts', password_file: file } });
    n.notify(esc);
    await until(() => n.counters().sent === 1);
    expect(s.mails[0]!.user).toBe('alerts');
  });

  it('counts and logs an unreadable password file, without retrying or throwing', async () => {
    const s = await serve();
    const n = make({ smtp: { host: '127.0.0.1', port: s.port, secure: false, username: 'alerts', password_file: '/nonexistent/smtp.pass' }, retries: 3 });
    expect(() => n.notify(esc)).not.toThrow();
    await until(() => n.counters().failed === 1);
    expect(s.mails).toHaveLength(0);
    expect(errors[0]).toContain('cannot read background.monitoring.alerts.email.smtp.password_file /nonexistent/smtp.pass');
  });

  it('counts and logs a refused connection (no SMTP server) after its retries, without throwing', async () => {
    const port = await closedPort();
    const n = make({ smtp: { host: '127.0.0.1', port, secure: false }, retries: 1 });
    expect(() => n.notify(esc)).not.toThrow();
    await until(() => n.counters().failed === 1);
    expect(n.counters()).toEqual({ sent: 0, failed: 1, dropped: 0 });
    expect(errors[0]).toMatch(new RegExp(`email alert for qaa-0 not delivered through SMTP 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });

  it('retries a temporary SMTP refusal (4xx) but not a permanent one (5xx)', async () => {
    let rcpt = 0;
    const flaky = await serve({ onRcptTo: (_a, _s, cb) => (++rcpt === 1 ? cb(Object.assign(new Error('try later'), { responseCode: 451 })) : cb()) });
    const n1 = make({ smtp: { host: '127.0.0.1', port: flaky.port, secure: false }, recipients: ['ops@example.com'] });
    n1.notify(esc);
    await until(() => n1.counters().sent === 1);
    expect(rcpt).toBe(2);

    let refused = 0;
    const strict = await serve({ onRcptTo: (_a, _s, cb) => { refused++; cb(Object.assign(new Error('no such user'), { responseCode: 550 })); } });
    const n2 = make({ smtp: { host: '127.0.0.1', port: strict.port, secure: false }, recipients: ['ops@example.com'], retries: 3 });
    n2.notify(esc);
    await until(() => n2.counters().failed === 1);
    expect(refused).toBe(1);
  });
});
