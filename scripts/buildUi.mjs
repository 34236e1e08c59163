#!/usr/bin/env node
// Builds the web dashboard (src/ui) into dist/ui: one minified ES module (Preact,
// htm and the page) and one stylesheet, plus index.html. Run by `npm run build`
// after tsc. Nothing is fetched from elsewhere at run time: the supervisor serves
// these files (src/server/ui/uiAssets.ts).
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'dist/ui');
rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, 'assets'), { recursive: true });
await build({
  entryPoints: { app: path.join(root, 'src/ui/main.ts') },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  outdir: path.join(out, 'assets'),
  logLevel: 'warning',
});
await build({ entryPoints: { app: path.join(root, 'src/ui/styles.css') }, bundle: true, minify: true, outdir: path.join(out, 'assets'), logLevel: 'warning' });
copyFileSync(path.join(root, 'src/ui/index.html'), path.join(out, 'index.html'));
