import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statfsSync, writeSync } from 'node:fs';
import path from 'node:path';

/**
 * Mounts a tmpfs of `size` (as `20m`) on `dir`. Needs root (CI runs as root).
 * @throws Error that says why, and what to do, when the mount fails: the disk-full
 * tests do not skip.
 */
export function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const detail = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    throw new Error(`cannot mount a ${size} tmpfs on ${dir} (uid ${process.getuid?.()}): ${detail}. The disk-full test needs root to mount a small filesystem (CI runs as root); run it as root — it is not skipped.`);
  }
}

/** Unmounts `dir` if it is a mount point (lazily if busy). Never throws. */
export function unmount(dir: string): void {
  if (!isMounted(dir)) return;
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' });
  } catch {
    try { execFileSync('umount', ['-l', dir], { stdio: 'ignore' }); } catch { /* left for the operator */ }
  }
}

export function isMounted(dir: string): boolean {
  const abs = path.resolve(dir);
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === abs);
}

/** Bytes an unprivileged writer can still use on the filesystem holding `dir`. */
export function availBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/**
 * Fills the filesystem holding `file` to the last byte: appends to `file` in 1 MiB
 * writes, then smaller ones down to 1 byte, until even one byte is refused
 * (ENOSPC). Returns the bytes added. Call it again to take space others freed.
 */
export function fillDisk(file: string): number {
  const fd = openSync(file, 'a');
  const buf = Buffer.alloc(1 << 20, 0x66);
  let size = buf.length;
  let added = 0;
  try {
    for (;;) {
      try {
        const n = writeSync(fd, buf, 0, size);
        added += n;
        if (n < size) size = Math.max(1, n);
      } catch (err) {
        if ((err as { code?: string }).code !== 'ENOSPC') throw err;
        if (size === 1) break;
        size = Math.max(1, size >> 4);
      }
    }
  } finally {
    closeSync(fd);
  }
  return added;
}

/** Frees what {@link fillDisk} took. */
export function freeDisk(file: string): void {
  rmSync(file, { force: true });
}
