import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DiskFullError, isDiskFull } from '../../../src/store/DiskFullError.js';
import { DiskWatch } from '../../../src/store/DiskWatch.js';

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

describe('DiskFullError', () => {
  it('recognises the codes of a disk that refuses writes, and nothing else', () => {
    for (const code of ['SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_FSYNC', 'ENOSPC', 'EDQUOT']) expect(isDiskFull({ code })).toBe(true);
    for (const code of ['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_BUSY', 'EACCES', 'ENOENT', undefined]) expect(isDiskFull({ code })).toBe(false);
    expect(isDiskFull(undefined)).toBe(false);
    expect(isDiskFull(new Error('no code'))).toBe(false);
  });

  it('names what was not written, the path, the code and the bytes free, with the cause kept', () => {
    const cause = enospc();
    const e = DiskFullError.from(cause, tmpdir(), 'store the task');
    expect(e).toBeInstanceOf(DiskFullError);
    expect(e?.code).toBe('ERR_DISK_FULL');
    expect(e?.causeCode).toBe('ENOSPC');
    expect(e?.cause).toBe(cause);
    expect(e?.freeBytes).toBeGreaterThanOrEqual(0);
    expect(e?.message).toMatch(new RegExp(`^could not store the task: the disk holding ${tmpdir()} refused the write \\(ENOSPC: .*\\); ${e?.freeBytes} bytes free — free space`));
    expect(DiskFullError.from(Object.assign(new Error('dup'), { code: 'SQLITE_CONSTRAINT' }), tmpdir(), 'x')).toBeUndefined();
  });
});

describe('DiskWatch', () => {
  let dir: string;
  beforeEach(() => {
    vi.useFakeTimers();
    dir = mkdtempSync(path.join(tmpdir(), 'diskwatch-'));
  });
  afterEach(() => {
    vi.useRealTimers();
    rmSync(dir, { recursive: true, force: true });
  });

  const refusal = (what = 'store the task') => DiskFullError.from(enospc(), dir, what) as DiskFullError;

  it('turns full on the first refused write, counts the rest by store, and says so once', () => {
    const w = new DiskWatch(dir, { probe: () => { throw enospc(); } });
    const full = vi.fn();
    w.on('full', full);
    expect(w.state).toEqual({ kind: 'ok' });
    w.report('queue', refusal());
    w.report('logs', refusal('write the qaa log'));
    w.report('queue', refusal());
    expect(full).toHaveBeenCalledTimes(1);
    expect(w.state).toMatchObject({ kind: 'full', path: dir, store: 'queue', failures: 3, since: Date.now() });
    expect(Object.fromEntries(w.failures())).toEqual({ queue: 2, logs: 1 });
    w.close();
  });

  it('probes every probeIntervalMs while full and recovers on the first probe that goes through', () => {
    let room = false;
    const probe = vi.fn(() => { if (!room) throw enospc(); });
    const w = new DiskWatch(dir, { probe, probeIntervalMs: 500 });
    const recovered = vi.fn();
    w.on('recovered', recovered);
    w.report('checkpoints', refusal());
    vi.advanceTimersByTime(1500);
    expect(probe).toHaveBeenCalledTimes(3);
    expect(w.state.kind).toBe('full');
    room = true;
    vi.advanceTimersByTime(500);
    expect(w.state).toEqual({ kind: 'ok' });
    expect(recovered).toHaveBeenCalledWith({ since: expect.any(Number), at: Date.now(), failures: 1 });
    vi.advanceTimersByTime(5000);
    expect(probe).toHaveBeenCalledTimes(4); // no probing once ok
    w.close();
  });

  it('probes with a real file in the watched directory and leaves nothing behind', () => {
    const w = new DiskWatch(dir, { probeBytes: 4096 });
    w.report('queue', refusal());
    expect(w.probeNow()).toBe(true);
    expect(w.state.kind).toBe('ok');
    expect(readdirSync(dir)).toEqual([]);
    w.close();
  });
});
