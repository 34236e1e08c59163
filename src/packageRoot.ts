import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root directory: the nearest directory above this module that holds a
 * package.json. It is the same whether this module runs from src/ (tsx, vitest), from
 * dist/ as tsc emits it, or from dist/daemon/, the bundled daemon
 * (scripts/buildDaemon.mjs), where a path relative to the module would point elsewhere.
 */
export const PACKAGE_ROOT: string = findRoot(path.dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(from, '..'); // not installed as a package: as before, one level up
  }
}
