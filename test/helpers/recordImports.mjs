/**
 * Records every module a Node process loads, for tests that assert what a command
 * imports (test/integration/lazy-imports.test.ts) and for bench/cli-latency.ts.
 *
 *   RECORD_IMPORTS_FILE=/tmp/mods.txt node --import ./test/helpers/recordImports.mjs dist/cli/main.js --version
 *
 * ES modules are seen by a module.register() load hook (it runs on the loader's own
 * thread and appends each URL to the file as it loads: nothing is lost if the process
 * ends with process.exit()); CommonJS modules that other CommonJS modules require()
 * never reach that hook on Node 20, so the main thread adds require.cache's files at
 * exit. One line per module: a file:// URL, or node:<builtin>. Without
 * RECORD_IMPORTS_FILE this file does nothing.
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.env.RECORD_IMPORTS_FILE;
if (file) {
  register(new URL('./recordImportsHooks.mjs', import.meta.url), { data: { file } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    const cjs = Object.keys(require.cache).map((f) => pathToFileURL(f).href);
    if (cjs.length) appendFileSync(file, `${cjs.join('\n')}\n`);
  });
}
