import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DAEMON_V8_OPTIONS, daemonNodeArgs } from '../../../src/cli/daemonNodeArgs.js';

describe('daemonNodeArgs', () => {
  it('starts the daemon with a 2 MB young generation, and start-up code dropped after one idle full GC, by default', () => {
    expect(DAEMON_V8_OPTIONS).toEqual(['--max-semi-space-size=2', '--bytecode-old-age=1', '--flush-baseline-code']);
    expect(daemonNodeArgs({}, [])).toEqual([...DAEMON_V8_OPTIONS]);
  });

  it('leaves an option out when the operator gives it, in NODE_OPTIONS or to node, in any spelling', () => {
    expect(daemonNodeArgs({ NODE_OPTIONS: '--max-old-space-size=512 --max-semi-space-size=8' }, [])).toEqual(['--bytecode-old-age=1', '--flush-baseline-code']);
    expect(daemonNodeArgs({}, ['--max_semi_space_size=16', '--bytecode_old_age=5'])).toEqual(['--flush-baseline-code']);
    expect(daemonNodeArgs({}, ['--no-flush-baseline-code'])).toEqual(['--max-semi-space-size=2', '--bytecode-old-age=1']);
    expect(daemonNodeArgs({ NODE_OPTIONS: '--max-old-space-size=512' }, ['--enable-source-maps'])).toEqual([...DAEMON_V8_OPTIONS]);
  });

  // The options are V8's, so what is tested is that this node honours them as the daemon is given them:
  // functions that ran and then did not run again through full GCs are dropped with them, kept without.
  it('with the daemon options, this node drops the compiled code of functions not run again through full GCs', () => {
    const script = `
      const v8 = require('v8');
      const used = () => v8.getHeapSpaceStatistics().reduce((a, s) => a + s.space_used_size, 0);
      const body = (i) => Array.from({ length: 60 }, (_, k) => 's = (s * ' + (k + 3) + ' + a[' + (k % 3) + '] + ' + i + ') % 1000003;').join(' ');
      const fns = new Function(Array.from({ length: 200 }, (_, i) => 'function f' + i + '(a) { let s = ' + i + '; ' + body(i) + ' return s; }').join('\\n')
        + '\\nreturn [' + Array.from({ length: 200 }, (_, i) => 'f' + i).join(',') + '];')();
      for (let r = 0; r < 3; r++) for (const f of fns) f([1, 2, 3]); // start-up code: compiled, run, then never again
      let keep = [];
      const churn = () => { for (let r = 0; r < 40; r++) { keep.push(new Array(200000).fill(r)); if (keep.length > 10) keep = []; } keep = []; };
      for (let i = 0; i < 3; i++) churn(); // full GCs as V8 schedules them
      gc(); gc();
      process.stdout.write(String(used()));`;
    // --predictable: V8 runs its GC on this thread alone, so both runs have the same GCs whatever the machine's load.
    const heapUsed = (opts: readonly string[]) => Number(execFileSync(process.execPath, ['--expose-gc', '--predictable', ...opts, '-e', script], { encoding: 'utf8' }));
    const flushing = (o: string) => /bytecode-old-age|flush-baseline-code/.test(o);
    const without = heapUsed(DAEMON_V8_OPTIONS.filter((o) => !flushing(o)));
    const withThem = heapUsed(DAEMON_V8_OPTIONS);
    // The 200 functions' code is about 400 KB on Node 20 (1.4 MB on Node 24); without the options V8 keeps it.
    expect(without - withThem).toBeGreaterThan(200_000);
  });
});
