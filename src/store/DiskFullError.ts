import { statfsSync } from 'node:fs';

/**
 * Error codes that mean "the disk refused the write": SQLite's `SQLITE_FULL` and
 * its I/O errors (`SQLITE_IOERR`, `SQLITE_IOERR_WRITE`, `SQLITE_IOERR_FSYNC`, …),
 * and the system's `ENOSPC` (no space) and `EDQUOT` (quota exhausted).
 */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' && (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT' || code.startsWith('SQLITE_IOERR'));
}

/** Bytes an unprivileged writer can still use on the filesystem holding `p` (as `df`'s "Avail"); undefined when it cannot be read. */
export function freeBytes(p: string): number | undefined {
  try {
    const s = statfsSync(p);
    return s.bavail * s.bsize;
  } catch {
    return undefined;
  }
}

/**
 * A write to the state directory's disk failed because the disk is full (or
 * refused it with an I/O error). Carries the path, the bytes free when it
 * happened, and the original error as `cause`. The control API answers it with
 * 507; background writes (logs, checkpoints, events) report it and go on.
 */
export class DiskFullError extends Error {
  readonly code = 'ERR_DISK_FULL';
  /** The underlying code: `SQLITE_FULL`, `ENOSPC`, … */
  readonly causeCode: string;

  /**
   * @param path the directory (or file) whose filesystem refused the write
   * @param what what could not be written, as "store the task"
   */
  constructor(readonly path: string, readonly freeBytes: number | undefined, readonly what: string, cause: unknown) {
    const code = String((cause as { code?: unknown } | undefined)?.code ?? 'EIO');
    const detail = cause instanceof Error ? cause.message : String(cause);
    super(
      `could not ${what}: the disk holding ${path} refused the write (${code}: ${detail}); ${freeBytes === undefined ? 'free space unknown' : `${freeBytes} bytes free`} — free space on that filesystem (or move state_dir); the supervisor recovers by itself once there is room`,
      { cause },
    );
    this.name = 'DiskFullError';
    this.causeCode = code;
  }

  /** `err` as a DiskFullError when it is one of the codes of {@link isDiskFull}; else undefined. */
  static from(err: unknown, path: string, what: string): DiskFullError | undefined {
    if (err instanceof DiskFullError) return err;
    return isDiskFull(err) ? new DiskFullError(path, freeBytes(path), what, err) : undefined;
  }
}
