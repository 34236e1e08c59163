import { execFileSync, spawn, spawnSync } from 'node:child_process';
import type { Socket } from 'node:net';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, ROOT, cleanup, startSupervisor, waitFor, type RunningSupervisor } from '../helpers/harness.js';

/**
 * What each CLI command imports, recorded by test/helpers/recordImports.mjs in a real
 * process: `--version`, `--help` and `status` must not load the supervisor's runtime.
 * The assertions are on module sets, never on timings (bench/cli-latency.ts times them).
 */

const RECORDER = path.join(ROOT, 'test/helpers/recordImports.mjs');
const PKG = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
/** The binary npm installs (package.json "bin"): CommonJS, which answers a lone `--version` itself. */
const BIN = path.join(ROOT, PKG.bin['agentic-scrum-setup'] as string);
/** Packages only the supervisor (or a command that needs them) may load. */
const HEAVY = ['fastify', '@opentelemetry/*', 'zod', 'better-sqlite3', 'pino', 'pino-pretty', 'yaml', 'prom-client', 'nodemailer', 'pidusage', 'cockatiel', 'pg'];

const tmp = mkdtempSync(path.join(tmpdir(), 'lazy-imports-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;

interface Recorded {
  code: number;
  stdout: string;
  stderr: string;
  /** Every module loaded (file:// URLs, node: builtins). */
  modules: Set<string>;
}

/** Runs the CLI with the import recorder; resolves once it exits. */
function recordCli(args: string[], entry = CLI): Promise<Recorded> {
  const file = path.join(tmp, `imports-${++n}.txt`);
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', RECORDER, entry, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', RECORD_IMPORTS_FILE: file } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr, modules: readModules(file) }));
  });
}

function readModules(file: string): Set<string> {
  return new Set(readFileSync(file, 'utf8').split('\n').filter(Boolean));
}

/** The npm packages among the modules: `fastify`, `@opentelemetry/api`, … */
function packagesOf(modules: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const m of modules) {
    const at = m.lastIndexOf('/node_modules/');
    if (at < 0) continue;
    const [a, b] = m.slice(at + '/node_modules/'.length).split('/');
    out.add(a?.startsWith('@') ? `${a}/${b}` : (a as string));
  }
  return out;
}

const heavyIn = (pkgs: Set<string>) => [...pkgs].filter((p) => HEAVY.some((h) => (h.endsWith('/*') ? p.startsWith(h.slice(0, -1)) : p === h)));

/** The project's own modules, relative to dist/: `cli/main.js`, … */
const ownModules = (modules: Set<string>) => [...modules].filter((m) => m.includes('/dist/')).map((m) => m.slice(m.lastIndexOf('/dist/') + '/dist/'.length)).sort();

describe('the CLI imports only what a command uses', () => {
  let sup: RunningSupervisor | undefined;

  beforeAll(async () => {
    sup = await startSupervisor({
      agents: [
        { name: 'qaa', command: ['sleep', '600'], replicas: 2 },
        { name: 'saa', command: ['sleep', '600'] },
      ],
    });
  });
  afterAll(() => cleanup(sup));

  it('the recorder sees the heavy packages when they load: ES modules, and CommonJS required from CommonJS', async () => {
    // The control that an empty list below means "not loaded", not "not seen".
    const file = path.join(tmp, 'control.txt');
    const load = ['fastify', 'pino', 'better-sqlite3', 'zod', '@opentelemetry/sdk-trace-node'].map((p) => `await import(${JSON.stringify(p)});`).join(' ');
    execFileSync(process.execPath, ['--import', RECORDER, '--input-type=module', '-e', load], { cwd: ROOT, env: { ...process.env, RECORD_IMPORTS_FILE: file } });
    const pkgs = packagesOf(readModules(file));
    for (const p of ['fastify', 'pino', 'better-sqlite3', 'zod', '@opentelemetry/api', '@opentelemetry/sdk-trace-node']) expect(heavyIn(pkgs)).toContain(p);
    expect(pkgs).toContain('avvio'); // fastify require()s it: CommonJS from CommonJS is recorded too
  });

  it('--version through the installed binary loads none of our ES modules and no package; anything else goes on to main.js', async () => {
    expect(BIN.endsWith(path.join('dist', 'cli', 'bin.cjs'))).toBe(true);
    const { version } = PKG;
    for (const flag of ['--version', '-V']) {
      const r = await recordCli([flag], BIN);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${version}\n`); // as commander prints it
      expect([...packagesOf(r.modules)]).toEqual([]);
      expect(ownModules(r.modules)).toEqual(['cli/bin.cjs']);
    }
    // a reader that went away (node takes far longer to start than `true` takes to exit): quiet, exit 0, as main.js
    const gone = spawnSync('bash', ['-c', '"$0" "$1" --version | true; echo "${PIPESTATUS[0]}"', process.execPath, BIN], { encoding: 'utf8' });
    expect(gone.stdout).toBe('0\n');
    expect(gone.stderr).toBe('');
    const json = await recordCli(['--version', '--json'], BIN);
    expect(json.stdout).toBe(`${version}\n`);
    expect(ownModules(json.modules)).toContain('cli/main.js');
    const help = await recordCli(['background', '--help'], BIN);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}status\b/m);
  });

  it('--version through main.js loads the command tree and commander, and no command', async () => {
    const r = await recordCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(heavyIn(packagesOf(r.modules))).toEqual([]);
    expect([...packagesOf(r.modules)]).toEqual(['commander']);
    expect(ownModules(r.modules)).toEqual(['cli/CliError.js', 'cli/brokenPipe.js', 'cli/lazyAction.js', 'cli/main.js', 'cli/program.js', 'version.js']);
  });

  it('background --help lists every command without importing any of them', async () => {
    const r = await recordCli(['background', '--help']);
    expect(r.code).toBe(0);
    for (const c of ['start', 'stop', 'status', 'restart', 'scale', 'reload', 'submit', 'logs', 'metrics', 'tasks', 'cancel', 'retry', 'priority', 'monitor', 'ui', 'alerts', 'controller', 'health', 'completion', 'db']) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    expect(heavyIn(packagesOf(r.modules))).toEqual([]);
    expect(ownModules(r.modules).filter((m) => m.startsWith('cli/commands/'))).toEqual([]);
  });

  it('background status loads an HTTP client and a table formatter, not the supervisor runtime', async () => {
    const s = sup as RunningSupervisor;
    await waitFor('three agents running', async () => (await s.api<{ agents: { state: string }[] }>('GET', '/api/v1/status')).body.agents.filter((a) => a.state === 'running').length === 3);
    const r = await recordCli(['background', 'status', '--state-dir', s.stateDir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^qaa +qaa +qaa-0 +running/m);
    expect(r.stdout).toMatch(/^saa +saa +saa-0 +running/m);
    expect(heavyIn(packagesOf(r.modules))).toEqual([]);
    expect([...packagesOf(r.modules)]).toEqual(['commander']);
    const own = ownModules(r.modules);
    expect(own).toContain('cli/httpRequest.js');
    expect(own).toContain('cli/format.js');
    expect(own.filter((m) => m.startsWith('cli/commands/'))).toEqual(['cli/commands/status.js', 'cli/commands/statusRuns.js']);
    // Besides the CLI: where the state is, the token, and the two pure formatters status shares with health (fleet line, last progress).
    expect(own.filter((m) => !m.startsWith('cli/') && m !== 'version.js').sort()).toEqual(['health/format.js', 'supervisor/StateDir.js', 'supervisor/fleetCounts.js', 'supervisor/tokenFiles.js']);
    expect([...r.modules]).not.toContain('node:https');
  });

  it('background completion bash loads its own modules and commander, nothing else', async () => {
    const r = await recordCli(['background', 'completion', 'bash']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('complete -F _agentic_scrum_setup agentic-scrum-setup');
    expect([...packagesOf(r.modules)]).toEqual(['commander']);
    expect(ownModules(r.modules).filter((m) => !['cli/CliError.js', 'cli/brokenPipe.js', 'cli/lazyAction.js', 'cli/main.js', 'cli/program.js', 'version.js'].includes(m))).toEqual(['cli/commands/completion.js', 'cli/completion/commandTree.js', 'cli/completion/fishScript.js', 'cli/completion/posixScripts.js']);
  });

  it('background db migrate with backend sqlite loads the config loader and its own command, never the PostgreSQL driver', async () => {
    const file = path.join(tmp, 'sqlite.yaml');
    writeFileSync(file, 'background:\n  agents: []\n');
    const r = await recordCli(['background', 'db', 'migrate', '--config', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('nothing to migrate');
    expect(heavyIn(packagesOf(r.modules))).toEqual(expect.arrayContaining(['yaml', 'zod']));
    expect([...packagesOf(r.modules)]).not.toContain('pg');
    expect(ownModules(r.modules).filter((m) => m.startsWith('cli/commands/') || m.startsWith('store/'))).toEqual(['cli/commands/db.js']);
  });

  it('background status --json with no supervisor (exit 3) loads no more than status does', async () => {
    const r = await recordCli(['background', 'status', '--json', '--state-dir', path.join(tmp, 'nothing-here')]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stderr)).toEqual({ ok: false, error: { code: 'not_running', message: expect.stringMatching(/^No supervisor is running for state directory /) } });
    expect(heavyIn(packagesOf(r.modules))).toEqual([]);
  });
});

describe('every command that talks to a supervisor loads no runtime package', () => {
  const commands = [['health'], ['tasks'], ['metrics'], ['submit', 'qaa', '--title', 'x'], ['monitor', '--once'], ['logs'], ['stop'], ['stop', 'qaa'], ['start', 'qaa'], ['scale', 'qaa', '2'], ['reload'], ['restart', 'qaa'], ['reset', 'qaa'], ['cancel', 'T1'], ['retry', 'T1'], ['priority', 'T1', '5'], ['alerts'], ['ui']];
  it.each(commands.map((c) => [c.join(' '), c]))('background %s', async (_, args) => {
    const r = await recordCli(['background', ...(args as string[]), '--state-dir', path.join(tmp, 'no-supervisor')]);
    expect(r.stderr).not.toMatch(/Unexpected error/);
    expect(heavyIn(packagesOf(r.modules))).toEqual([]);
    expect(ownModules(r.modules).filter((m) => m.startsWith('cli/commands/') && !m.endsWith('statusRuns.js'))).toHaveLength(1); // its own command only
  });
});

describe('the Node SDK says hello before it loads pino and OpenTelemetry', () => {
  it('loads no package before `hello`, then pino and @opentelemetry/* while the supervisor answers', async () => {
    const file = path.join(tmp, 'sdk-agent.txt');
    const env: NodeJS.ProcessEnv = { ...process.env, AGENTIC_PROTOCOL_FD: '3', AGENTIC_AGENT_NAME: 'qaa', LOG_LEVEL: 'info', RECORD_IMPORTS_FILE: file };
    for (const k of Object.keys(env)) if (k.startsWith('OTEL_')) delete env[k];
    const child = spawn(process.execPath, ['--import', RECORDER, path.join(ROOT, 'test/fixtures/agents/helloOrder.mjs')], { env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    try {
      const channel = child.stdio[3] as Socket;
      let received = '';
      let stdout = '';
      child.stdout!.on('data', (d) => (stdout += d));
      channel.on('data', (d) => (received += d));
      await waitFor('hello', () => received.includes('"type":"hello"'));
      const hello = JSON.parse(received.split('\n')[0] as string) as { type: string; capabilities: string[] };
      expect(hello.type).toBe('hello');
      expect(hello.capabilities).toEqual(['tasks', 'metrics']); // the SDK's meter provider, decided without loading the OTel API
      channel.write(`${JSON.stringify({ type: 'welcome', protocol: 1, agent: { name: 'qaa', id: 'qaa-0', role: 'qaa', replica: 0 }, checkpoint: null, settings: { heartbeat_interval_ms: 60_000, max_checkpoint_bytes: 4096 } })}\n`);
      await waitFor('connect() to resolve', () => stdout.includes('"msg":"connected"'));
      const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
      const at = lines.indexOf('HELLO');
      expect(at).toBeGreaterThan(0);
      const before = new Set(lines.slice(0, at));
      const after = new Set(lines.slice(at + 1));
      expect([...before].some((m) => m.endsWith('/dist/sdk/connect.js'))).toBe(true);
      expect([...packagesOf(before)]).toEqual([]);
      const later = heavyIn(packagesOf(after));
      for (const p of ['pino', '@opentelemetry/api', '@opentelemetry/core', '@opentelemetry/sdk-metrics']) expect(later).toContain(p);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('a supervisor loads only the packages its configuration uses', () => {
  it('on SQLite, with no email channel, no OTLP endpoint and a pipe for stdout: no PostgreSQL driver, no nodemailer, no pino-pretty, no OpenTelemetry SDK; spans still get real ids', async () => {
    const file = path.join(tmp, 'supervisor.txt');
    const env: NodeJS.ProcessEnv = { NODE_OPTIONS: `--import ${RECORDER}`, RECORD_IMPORTS_FILE: file };
    for (const k of Object.keys(process.env)) if (k.startsWith('OTEL_')) env[k] = undefined;
    const sup = await startSupervisor({ agents: [{ name: 'qaa', command: ['sleep', '600'] }] }, { env });
    try {
      // The no-SDK tracer: a task's correlation id is still a fresh W3C trace id, not the API's all-zero one.
      const r = await sup.api<{ task: { correlation_id: string } }>('POST', '/api/v1/tasks', { role: 'qaa', title: 't' });
      expect(r.status).toBe(201);
      expect(r.body.task.correlation_id).toMatch(/^[0-9a-f]{32}$/);
      expect(r.body.task.correlation_id).not.toMatch(/^0+$/);
      const exited = new Promise((res) => sup.proc.once('exit', res));
      sup.proc.kill('SIGTERM');
      await exited;
    } finally {
      cleanup(sup);
    }
    const pkgs = packagesOf(readModules(file));
    for (const p of ['fastify', 'better-sqlite3', 'prom-client', '@opentelemetry/api', '@opentelemetry/core']) expect(pkgs).toContain(p); // the recorder saw the supervisor
    for (const p of ['pg', 'nodemailer', 'pino-pretty', '@opentelemetry/sdk-trace-node', '@opentelemetry/sdk-trace-base', '@opentelemetry/resources', '@opentelemetry/exporter-trace-otlp-http']) expect(pkgs).not.toContain(p);
  });
});
