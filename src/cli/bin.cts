#!/usr/bin/env node
/**
 * The `agentic-scrum-setup` binary (package.json's "bin"). It is CommonJS so that
 * `--version`, asked by scripts and package managers alike, is answered before Node
 * starts its ES module loader, which costs 25–35 ms on Node 20 (docs/benchmarks.md,
 * "CLI latency"); every other command goes to main.js, which answers `-V`, `--version`
 * with other arguments, and `--version --json` the same way.
 */
import { readFileSync, writeSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  // as commander prints it (main.js: program.version(VERSION))
  const version = (JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { version: string }).version;
  try {
    writeSync(1, `${version}\n`);
  } catch (err) {
    // `--version | true`: the reader is gone, so end quietly with 0, as main.js does (brokenPipe.ts)
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
  }
} else {
  void import('./main.js');
}
