import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listLogFiles } from '../../../src/telemetry/logFiles.js';

describe('listLogFiles: the store\'s files, oldest first', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(path.join(tmpdir(), 'logfiles-')); });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, mtimeS: number) => {
    writeFileSync(path.join(dir, name), '');
    utimesSync(path.join(dir, name), mtimeS, mtimeS);
  };

  it('orders rotated files whose timestamps tie (one kernel tick) by the rotation\'s time and index, the live file last', () => {
    // Written newest first, so that neither creation nor directory order gives the answer.
    write('deva.log', 1000);
    for (let n = 12; n >= 1; n--) write(`deva.20261205-100001-${n}.log`, 1000);
    for (let n = 3; n >= 1; n--) write(`deva.20261205-100000-${n}.log`, 1000);
    write('other.20261205-090000-1.log', 1000);
    const names = listLogFiles(dir, ['deva']).map((f) => path.basename(f.file));
    expect(names).toEqual([
      ...[1, 2, 3].map((n) => `deva.20261205-100000-${n}.log`),
      ...Array.from({ length: 12 }, (_, i) => `deva.20261205-100001-${i + 1}.log`),
      'deva.log',
    ]);
  });

  it('goes by the time a file was last written first: an index reused after the oldest files were pruned is the newest', () => {
    write('deva.20261205-100000-1.log', 1002); // -1 pruned, then reused by a later rotation in the same second
    write('deva.20261205-100000-2.log', 1000);
    write('deva.20261205-100000-3.log', 1001);
    expect(listLogFiles(dir, ['deva']).map((f) => f.index)).toEqual([2, 3, 1]);
  });
});
