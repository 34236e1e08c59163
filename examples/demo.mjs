#!/usr/bin/env node
// `npm start`: runs the supervisor in the foreground with examples/demo.yaml and
// feeds it a story every few seconds, round-robin over the roles, so the demo
// agents have work. Ctrl-C stops the supervisor, which stops every agent.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { daemonNodeArgs } from '../dist/cli/daemonNodeArgs.js';
import { daemonEnv } from '../dist/supervisor/daemonEnv.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const config = process.env.DEMO_CONFIG ?? path.join(root, 'examples/demo.yaml');
const stateDir = process.env.DEMO_STATE_DIR ?? path.join(root, '.agentic/demo');
const everyMs = Number(process.env.DEMO_SUBMIT_EVERY_MS ?? 4000);

// The daemon's V8 options and environment, as `background start` gives them (docs/operations.md).
const sup = spawn(process.execPath, [...daemonNodeArgs(), path.join(root, 'dist/cli/main.js'), 'background', 'start', '--foreground', '--config', config, '--state-dir', stateDir, ...process.argv.slice(2)], { cwd: root, stdio: 'inherit', env: { ...process.env, ...daemonEnv() } });
sup.on('exit', (code, signal) => {
  clearInterval(timer);
  process.exitCode = code ?? (signal ? 130 : 1);
});
// Ctrl-C reaches both of us (same process group); the supervisor handles it.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => sup.kill('SIGTERM'));

const roles = ['saa', 'deva_python', 'qaa', 'sma', 'deva_ts'];
const titles = ['Audit the auth middleware', 'Add retry to the payment client', 'Write tests for the cart', 'Plan sprint 14', 'Refactor the coupon service', 'Fix flaky login test'];
let n = 0;
const timer = setInterval(async () => {
  let endpoint;
  let token;
  try {
    endpoint = JSON.parse(readFileSync(path.join(stateDir, 'endpoint.json'), 'utf8'));
    token = readFileSync(path.join(stateDir, 'api.token'), 'utf8').trim();
  } catch {
    return; // not ready yet
  }
  if (n === 0) {
    const ui = await fetch(`${endpoint.url}/api/v1/ui/codes`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }).then((r) => r.json()).catch(() => undefined);
    if (ui?.path) process.stderr.write(`\n  Web dashboard (the link logs in once, for 5 minutes; \`background ui\` prints a new one):\n    ${endpoint.url}${ui.path}\n`);
    process.stderr.write(`\n  Demo supervisor ready at ${endpoint.url}. Feeding it a story every ${everyMs / 1000}s.\n  In another terminal try (after npm install -g . in the clone; else node dist/cli/main.js):\n    agentic-scrum-setup background status --state-dir ${stateDir}\n    agentic-scrum-setup background health --state-dir ${stateDir}\n    agentic-scrum-setup background monitor --state-dir ${stateDir}\n    curl -s ${endpoint.url}/metrics | grep agentic_agent_up\n  Ctrl-C stops everything.\n\n`);
  }
  const role = roles[n % roles.length];
  const title = titles[n % titles.length];
  n++;
  await fetch(`${endpoint.url}/api/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role, title, prompt: `${title} (demo story ${n})`, priority: 1 + (n % 10) }),
  }).catch(() => undefined);
}, everyMs);
