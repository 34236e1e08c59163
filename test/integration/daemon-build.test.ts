import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/harness.js';

/**
 * The daemon's bundled build (dist/daemon, scripts/buildDaemon.mjs; docs/architecture.md,
 * "The daemon's build"). That the daemon runs it is lazy-imports.test.ts's; this is that
 * it is the current source and that its stack traces can be read.
 */
const DIR = path.join(ROOT, 'dist/daemon');
const chunks = () => readdirSync(DIR).filter((f) => f.endsWith('.js'));
const entryOf = (name: string) => chunks().find((f) => f.startsWith(`${name}-`)) as string;

/** Runs `code` as an ES module in a fresh node with `flags`; returns its stderr. */
function nodeStderr(flags: string[], code: string): string {
  const r = spawnSync(process.execPath, [...flags, '--input-type=module', '-e', code], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return r.stderr;
}

describe('the daemon runs a bundle of the current source, and its stack traces can be read', () => {
  it('is built from src/ as it is now: every chunk has a linked source map whose sources are the files in src/ today', () => {
    expect(chunks()).toContain('cli.js');
    let sources = 0;
    for (const f of chunks()) {
      const js = readFileSync(path.join(DIR, f), 'utf8');
      expect(js.trimEnd().endsWith(`//# sourceMappingURL=${f}.map`), f).toBe(true);
      const map = JSON.parse(readFileSync(path.join(DIR, `${f}.map`), 'utf8')) as SourceMapPayload & { sourcesContent: string[] };
      map.sources.forEach((s, i) => {
        const file = path.resolve(DIR, s);
        expect(file.startsWith(path.join(ROOT, 'src') + path.sep), s).toBe(true); // our modules only: packages stay external
        expect(map.sourcesContent[i] === readFileSync(file, 'utf8'), `${s} changed since the bundle was built (npm run build)`).toBe(true);
        sources++;
      });
    }
    expect(sources).toBeGreaterThan(100);
  });

  it('keeps our names: a stack trace from the bundle names the function, and under --enable-source-maps the line in src/', () => {
    const chunk = pathToFileURL(path.join(DIR, entryOf('runSupervisor'))).href;
    // runSupervisor with no config: a TypeError at its first line (`config.background`).
    const code = `const { runSupervisor } = await import(${JSON.stringify(chunk)}); try { await runSupervisor(undefined, { console: false }); } catch (e) { console.error(e.stack); }`;
    const plain = nodeStderr([], code);
    expect(plain).toMatch(/TypeError: Cannot read properties of undefined/);
    expect(plain).toMatch(new RegExp(`at runSupervisor \\(${chunk.replaceAll('.', '\\.')}:\\d+:\\d+\\)`));
    const mapped = nodeStderr(['--enable-source-maps'], code);
    const line = readFileSync(path.join(ROOT, 'src/cli/runSupervisor.ts'), 'utf8').split('\n').findIndex((l) => l.includes('const bg = config.background;')) + 1;
    expect(line).toBeGreaterThan(0);
    expect(mapped).toContain(`at runSupervisor (${path.join(ROOT, 'src/cli/runSupervisor.ts')}:${line}:`);
  });

  it('maps a position back with Node\'s own source-map reader (what --enable-source-maps uses)', () => {
    const f = entryOf('runSupervisor');
    const js = readFileSync(path.join(DIR, f), 'utf8');
    const at = js.indexOf('Supervisor=class');
    expect(at).toBeGreaterThan(0); // the class keeps its name (identifiers are not minified)
    const lines = js.slice(0, at).split('\n');
    const map = new SourceMap(JSON.parse(readFileSync(path.join(DIR, `${f}.map`), 'utf8')) as SourceMapPayload);
    const e = map.findEntry(lines.length - 1, (lines.at(-1) as string).length) as { originalSource: string; originalLine: number };
    expect(e.originalSource).toMatch(/src\/supervisor\/Supervisor\.ts$/);
    expect(existsSync(path.resolve(DIR, e.originalSource.replace(/^file:\/\//, '')))).toBe(true);
  });
});
