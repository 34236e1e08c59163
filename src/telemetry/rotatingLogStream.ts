import { createStream, type RotatingFileStream } from 'rotating-file-stream';
import type { BackgroundConfig } from '../config/schema.js';

type LoggingConfig = BackgroundConfig['logging'];

/**
 * One rotating JSON-lines file, `<dir>/<name>.log`, rotated by size
 * (`max_file_size_mb`) and age (`max_age_days`) to `<name>.<YYYYMMDD-HHMMSS>-<n>.log`,
 * keeping `max_files` rotated files and at most `totalMb` for the stream (its
 * share of `max_total_size_mb`). The history of rotated files is `.<name>.history`,
 * so a stream opened again (after a write error) goes on counting the same files.
 */
export function rotatingLogStream(dir: string, name: string, cfg: LoggingConfig, totalMb: number): RotatingFileStream {
  const sizeK = Math.max(1, Math.round(cfg.max_file_size_mb * 1024));
  const s = createStream(
    (time: number | Date | null, index?: number) => {
      if (!time) return `${name}.log`;
      const d = typeof time === 'number' ? new Date(time) : time;
      const stamp = d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
      return `${name}.${stamp}-${index ?? 1}.log`;
    },
    {
      path: dir,
      size: `${sizeK}K`,
      interval: `${Math.max(1, Math.round(cfg.max_age_days))}d`,
      maxFiles: cfg.max_files,
      maxSize: `${Math.max(1, Math.round(totalMb * 1024))}K`,
      history: `.${name}.history`,
    },
  );
  return s;
}

/** Bytes of one file before rotation, as {@link rotatingLogStream} rounds `max_file_size_mb`. */
export function fileBytes(cfg: LoggingConfig): number {
  return Math.max(1, Math.round(cfg.max_file_size_mb * 1024)) * 1024;
}
