import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { openDatabase, type Db } from '../../src/store/Database.js';

/**
 * Real SQLite files in temporary directories for the tests of the calling scope:
 * `open()` gives a new database (and its directory); each is closed and removed
 * after its test.
 */
export function useTempDb(prefix: string, file = 'q.db'): () => { db: Db; dir: string } {
  const opened: { db: Db; dir: string }[] = [];
  afterEach(() => {
    for (const { db, dir } of opened.splice(0)) {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
  return () => {
    const dir = mkdtempSync(path.join(tmpdir(), prefix));
    const o = { db: openDatabase(path.join(dir, file)), dir };
    opened.push(o);
    return o;
  };
}
