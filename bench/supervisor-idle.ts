/**
 * Supervisor RSS and CPU while idling with the demo agents (no tasks fed).
 *
 *   npx tsx bench/supervisor-idle.ts [seconds=60]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';

const SECONDS = Number(process.argv[2] ?? 60);
const root = path.resolve(import.meta.dirname, '..');
const tmp = mkdtempSync(path.join(tmpdir(), 'bench-idle-'));
const cfg = parse(readFileSync(path.join(root, 'examples/demo.yaml'), 'utf8')) as { background: Record<string, unknown> };
cfg.background.state_dir = path.join(tmp, 'state');
cfg.background.server = { port: 0 };
writeFileSync(path.join(tmp, 'c.yaml'), stringify(cfg));
const sup = spawn(process.execPath, [path.join(root, 'dist/cli/main.js'), 'background', 'start', '--foreground', '--config', path.join(tmp, 'c.yaml')], { cwd: root, stdio: 'ignore' });
const pid = sup.pid as number;
const ticks = () => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8'); const r = f.slice(f.lastIndexOf(')') + 2).split(' '); return Number(r[11]) + Number(r[12]); };
const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) * 1024;
await new Promise((r) => setTimeout(r, 5000)); // start-up done, agents connected
const t0 = ticks();
const w0 = Date.now();
const rssSamples: number[] = [];
while (Date.now() - w0 < SECONDS * 1000) {
  rssSamples.push(rss());
  await new Promise((r) => setTimeout(r, 1000));
}
const cpuSeconds = (ticks() - t0) / 100; // USER_HZ
const wall = (Date.now() - w0) / 1000;
sup.kill('SIGTERM');
await new Promise((r) => sup.once('exit', r));
rmSync(tmp, { recursive: true, force: true });
const mb = (b: number) => (b / 1024 / 1024).toFixed(1);
console.log(`idle ${wall.toFixed(0)} s with the demo agents (5 agents, 6 processes, 2 s heartbeats, 5 s sampling): supervisor CPU ${((cpuSeconds / wall) * 100).toFixed(2)}% of one core; RSS start ${mb(rssSamples[0] as number)} MB, end ${mb(rssSamples.at(-1) as number)} MB, max ${mb(Math.max(...rssSamples))} MB`);
