#!/usr/bin/env node
// A protocol tap: run it as an agent's command in front of the real agent to record
// every protocol line both ways, with times, while the supervisor runs the agent:
//   command: [node, scripts/protocol-tap.mjs, /tmp/tap.txt, --, python3, examples/agents/plain_agent.py]
// It gives the agent a socketpair of its own on fd 3 and copies bytes between it and
// the supervisor's fd 3 unchanged; SIGTERM and SIGINT are passed on, and it exits
// with the agent's status. docs/protocol.md's worked transcript was recorded with it.
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { Socket } from 'node:net';

const [file, sep, ...argv] = process.argv.slice(2);
if (!file || sep !== '--' || !argv.length) {
  console.error('usage: protocol-tap.mjs <file> -- <agent command…>');
  process.exit(2);
}
const t0 = performance.now();
const fromSupervisor = new Socket({ fd: Number(process.env.AGENTIC_PROTOCOL_FD ?? 3), readable: true, writable: true });
const child = spawn(argv[0], argv.slice(1), { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env: { ...process.env, AGENTIC_PROTOCOL_FD: '3' } });
const toAgent = child.stdio[3];
function tap(label) {
  let rest = '';
  return (chunk) => {
    rest += chunk.toString('utf8');
    let nl;
    while ((nl = rest.indexOf('\n')) >= 0) {
      appendFileSync(file, `+${((performance.now() - t0) / 1000).toFixed(3)}s ${label} ${rest.slice(0, nl)}\n`);
      rest = rest.slice(nl + 1);
    }
  };
}
const down = tap('supervisor →');
const up = tap('agent      →');
fromSupervisor.on('data', (c) => { down(c); toAgent.write(c); });
toAgent.on('data', (c) => { up(c); fromSupervisor.write(c); });
fromSupervisor.on('end', () => toAgent.end());
toAgent.on('end', () => fromSupervisor.end());
fromSupervisor.on('error', () => undefined);
toAgent.on('error', () => undefined);
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  appendFileSync(file, `+${((performance.now() - t0) / 1000).toFixed(3)}s (agent exited: ${signal ?? `code ${code}`})\n`);
  process.exit(code ?? 1);
});
