import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The built page (dist/ui), whether this module runs from src/ or dist/: both are three
 * levels below the package root. (Not `import.meta.dirname`: Node has it from 20.11, and
 * the package supports 20.6.)
 */
export const UI_DIR = fileURLToPath(new URL('../../../dist/ui', import.meta.url));

export interface UiAsset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Every file of the built page, read once into memory (a few tens of KB): served
 * from the package, no file system path ever taken from a request. Keys are
 * `index.html` and `assets/<name>`. Empty when the page was not built.
 */
export function loadUiAssets(dir = UI_DIR): Map<string, UiAsset> {
  const out = new Map<string, UiAsset>();
  const add = (rel: string) => {
    const type = TYPES[path.extname(rel)];
    if (!type) return;
    const body = readFileSync(path.join(dir, rel));
    out.set(rel, { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  };
  if (!existsSync(path.join(dir, 'index.html'))) return out;
  add('index.html');
  const assets = path.join(dir, 'assets');
  if (existsSync(assets)) for (const f of readdirSync(assets)) add(`assets/${f}`);
  return out;
}
