import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ConfigOverrides, overridesFromEnv } from '../../config/loadConfig.js';
import { requireAgents } from '../../config/requireAgents.js';
import { StateDir, readJson, type Endpoint } from '../../supervisor/StateDir.js';
import { SupervisorLock } from '../../supervisor/SupervisorLock.js';
import { daemonEnv } from '../../supervisor/daemonEnv.js';
import { CliError, EXIT } from '../CliError.js';
import { daemonNodeArgs } from '../daemonNodeArgs.js';
import { httpRequest } from '../httpRequest.js';
import { printJson } from '../jsonOutput.js';
import { recordStart } from '../lastStart.js';

export interface StartFlags {
  config?: string;
  foreground?: boolean;
  stateDir?: string;
  host?: string;
  port?: string;
  logLevel?: string;
  readyTimeout?: string;
  /** Print the running supervisor as JSON once it is ready (errors as JSON on stderr). */
  json?: boolean;
  /** Internal: set by `start` on the daemon it spawns (the file its stdout and stderr go to). */
  daemonOut?: string;
}

/** flags > environment > file > defaults */
export function overridesFrom(flags: StartFlags, fromEnv: typeof overridesFromEnv): ConfigOverrides {
  const o: ConfigOverrides = { ...fromEnv(process.env) };
  if (flags.stateDir !== undefined) o.stateDir = flags.stateDir;
  if (flags.host !== undefined) o.host = flags.host;
  if (flags.port !== undefined) o.port = flags.port;
  if (flags.logLevel !== undefined) o.logLevel = flags.logLevel;
  return o;
}

/**
 * Starts the supervisor; with an agent (`start qaa`, `start qaa-1`), starts that agent or
 * replica in the running supervisor (what `stop <agent>` stopped), loading no config.
 */
export async function startCommand(agent: string | undefined, flags: StartFlags): Promise<number> {
  if (agent !== undefined) return (await import('../agentControl.js')).agentControlCommand('start', agent, flags);
  if (!flags.config) throw new CliError('Missing --config <file>. Try: agentic-scrum-setup background start --config examples/demo.yaml', EXIT.USAGE);
  const { loadConfig, overridesFromEnv } = await import('../../config/loadConfig.js');
  const overrides = overridesFrom(flags, overridesFromEnv);
  const config = loadConfig(flags.config, overrides); // ConfigError → exit 2
  requireAgents(config, flags.config);
  const dir = new StateDir(config.background.state_dir);
  const owner = new SupervisorLock(dir.lockFile).owner();
  if (owner) throw new CliError(`A supervisor is already running for ${dir.root} (pid ${owner}). Stop it with "agentic-scrum-setup background stop --state-dir ${dir.root}" or choose another --state-dir.`, EXIT.USAGE);
  if (flags.foreground) {
    recordStart(dir.root, flags.config); // a plain `status` from anywhere finds this supervisor (the daemon passes here too)
    // Only the supervisor itself loads its runtime (fastify, OTel, SQLite…); the parent that daemonizes just spawns it.
    const { runSupervisor } = await import('../runSupervisor.js');
    return runSupervisor(config, { console: true, daemonOut: flags.daemonOut, configFile: flags.config, overrides });
  }
  return daemonize(flags, dir, Number(flags.readyTimeout ?? 30) * 1000);
}

/** Starts the supervisor detached and returns once /readyz answers (or the child fails). */
async function daemonize(flags: StartFlags, dir: StateDir, timeoutMs: number): Promise<number> {
  dir.ensure();
  // Start-up output (and errors) go to daemon.out, shown below if the daemon exits;
  // once ready, the daemon writes its output through the log store (adoptDaemonOutput).
  const args = [...daemonNodeArgs(), fileURLToPath(new URL('../main.js', import.meta.url)), 'background', 'start', '--foreground', '--config', flags.config as string, '--daemon-out', dir.daemonOutFile];
  for (const [flag, v] of [['--state-dir', flags.stateDir], ['--host', flags.host], ['--port', flags.port], ['--log-level', flags.logLevel]] as const) if (v !== undefined) args.push(flag, v);
  const outFrom = sizeOf(dir.daemonOutFile); // this start's output begins here
  const out = openSync(dir.daemonOutFile, 'a');
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', out, out], env: { ...process.env, ...daemonEnv(), NO_COLOR: '1' } });
  closeSync(out);
  let exitCode: number | null = null;
  child.on('exit', (code) => { exitCode = code ?? 1; });
  child.unref();
  const tty = process.stderr.isTTY && !flags.json;
  if (tty) process.stderr.write('Starting supervisor');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== null) {
      if (tty) process.stderr.write('\n');
      throw startFailure(exitCode, dir.daemonOutFile, outFrom);
    }
    const ep = readJson<Endpoint>(dir.endpointFile);
    if (ep && ep.pid === child.pid) {
      const ok = await httpRequest(`${ep.url}/readyz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status >= 200 && r.status < 300, () => false);
      if (ok) {
        if (tty) process.stderr.write(' ready\n');
        if (flags.json) printJson({ ok: true, action: 'start', pid: ep.pid, url: ep.url, metrics_url: `${ep.url}/metrics`, state_dir: dir.root, log_dir: dir.logDir });
        else process.stdout.write(`Supervisor running (pid ${ep.pid})\n  endpoint:  ${ep.url}  (metrics: ${ep.url}/metrics)\n  state dir: ${dir.root}\n  logs:      ${dir.logDir}\nCheck it with: agentic-scrum-setup background status --state-dir ${dir.root}\n`);
        return EXIT.OK;
      }
    }
    if (tty) process.stderr.write('.');
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new CliError(`The supervisor (pid ${child.pid}) did not become ready within ${timeoutMs / 1000}s. See ${dir.daemonOutFile}.`, EXIT.FAILED);
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Why the daemonized supervisor exited during start. Its own error (what the CLI
 * prints to stderr: every line that is not a JSON log line) is shown as it is, so
 * the user running `start` sees the same clear line as in the foreground; only an
 * unexpected failure gets the last lines of its output.
 */
function startFailure(exitCode: number, outFile: string, from: number): CliError {
  let out = '';
  try {
    const fd = openSync(outFile, 'r');
    try {
      const size = fstatSync(fd).size;
      const start = Math.max(from, size - 64 * 1024);
      const buf = Buffer.alloc(Math.max(0, size - start));
      readSync(fd, buf, 0, buf.length, start);
      out = buf.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    // no output file: the fallback below says where to look
  }
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const said = lines.filter((l) => !l.startsWith('{') && !l.startsWith('(node:')); // not JSON logs, not Node's own warnings
  if (exitCode === EXIT.USAGE && said.length) return new CliError(said.join('\n'), EXIT.USAGE);
  return new CliError(`The supervisor exited during start (code ${exitCode}). Last output (${outFile}):\n${lines.slice(-15).join('\n')}`, exitCode === EXIT.USAGE ? EXIT.USAGE : EXIT.FAILED);
}
