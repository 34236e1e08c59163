#!/usr/bin/env node
/**
 * The CLI's entry (bin.cjs hands everything but a bare `--version` to it). It only
 * chooses which build of the CLI runs, and imports nothing else:
 *
 * - The supervisor daemon, `background start --foreground` (which is how `background
 *   start`, the systemd unit, the container and `npm start` run it), runs the bundled
 *   build, dist/daemon/cli.js (scripts/buildDaemon.mjs): the same sources in a few
 *   chunks, so V8 holds about 10 MB less (fewer module records, less source text;
 *   docs/benchmarks.md, "Bundling the daemon").
 * - Every other command runs the modules as tsc emitted them (cli.ts), each command
 *   loading only what it uses, which is what keeps `status` and `--version` quick.
 *
 * Without a bundle (a build by tsc alone, or running from src/) the daemon runs cli.ts
 * too: same behaviour, more memory.
 */
import { existsSync } from 'node:fs';

const args = process.argv.slice(2);
const bundle = new URL('../daemon/cli.js', import.meta.url);
const daemon = args[0] === 'background' && args[1] === 'start' && args.includes('--foreground') && existsSync(bundle);
await import(daemon ? bundle.href : './cli.js');
