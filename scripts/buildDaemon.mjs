#!/usr/bin/env node
// Bundles the CLI for the supervisor daemon into dist/daemon (src/cli/main.ts runs it
// for `background start --foreground`). Run by `npm run build` after tsc.
//
// - Our own modules only: every npm package stays external, loaded from node_modules as
//   before, so the lazily loaded ones (pg, nodemailer, the OpenTelemetry SDK,
//   pino-pretty) still load only when the configuration uses them, and the OpenTelemetry
//   API has one copy.
// - `splitting`: each lazy `import()` of ours stays a chunk of its own, loaded when used.
// - Whitespace and syntax are minified, names are not, so a stack trace in the daemon's
//   log still names our functions and classes. The source maps (`*.js.map`, to src/)
//   are read only under `node --enable-source-maps`.
// What it saves is measured in docs/benchmarks.md, "Bundling the daemon".
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/daemon');
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { cli: path.join(root, 'src/cli/cli.ts') },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  outdir: out,
  logLevel: 'warning',
});
