import type { LogStore } from './LogStore.js';

/** Longest partial line kept while waiting for its newline; longer text is stored as it is. */
const MAX_CARRY = 64 * 1024;

type Write = typeof process.stdout.write;

/**
 * Sends what this process writes to its stdout and stderr outside the logger
 * (Node's warnings, a library's console output) into the log store's `name`
 * stream, one record per line (`info` for stdout, `warn` for stderr), instead of
 * the file descriptors. The daemon uses it once ready, so its own output is
 * rotated and counted with the other logs. Writes never fail and never block.
 * Returns a function that puts the original writes back (after the store is closed).
 */
export function captureStdio(store: LogStore, name: string, now: () => number = Date.now): () => void {
  const restores: (() => void)[] = [];
  for (const [target, label, level] of [[process.stdout, 'stdout', 30], [process.stderr, 'stderr', 40]] as const) {
    const original = target.write;
    let carry = '';
    const store1 = (msg: string) => { if (msg) store.write(name, { level, time: now(), component: name, stream: label, msg }); };
    const write = (chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean => {
      const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString(typeof encoding === 'string' ? encoding : 'utf8');
      const lines = (carry + text).split('\n');
      carry = lines.pop() ?? '';
      if (carry.length > MAX_CARRY) {
        lines.push(carry);
        carry = '';
      }
      for (const l of lines) store1(l);
      const done = typeof encoding === 'function' ? encoding : cb;
      if (done) process.nextTick(done);
      return true;
    };
    target.write = write as Write;
    restores.push(() => {
      store1(carry);
      target.write = original;
    });
  }
  return () => { for (const r of restores.splice(0)) r(); };
}
