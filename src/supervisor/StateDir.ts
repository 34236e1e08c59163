import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { loadToken } from './tokenFiles.js';

/** Where a supervisor keeps its lock, pid file, tokens, endpoint, database and logs. */
export class StateDir {
  constructor(readonly root: string) {}

  get lockFile(): string { return path.join(this.root, 'supervisor.lock'); }
  get pidFile(): string { return path.join(this.root, 'agents.pid.json'); }
  get endpointFile(): string { return path.join(this.root, 'endpoint.json'); }
  get tokenFile(): string { return path.join(this.root, 'api.token'); }
  get webhookTokenFile(): string { return path.join(this.root, 'webhook.token'); }
  get dbFile(): string { return path.join(this.root, 'state.db'); }
  get logDir(): string { return path.join(this.root, 'logs'); }
  get daemonOutFile(): string { return path.join(this.logDir, 'daemon.out'); }

  ensure(): void {
    mkdirSync(this.root, { recursive: true, mode: 0o700 });
    mkdirSync(this.logDir, { recursive: true, mode: 0o700 });
  }

  /**
   * The token in one of this directory's token files: created (0600, 32 random bytes
   * as hex) when missing, otherwise read (and set to 0600), never rewritten.
   * @throws TokenFileError when it holds fewer than 16 characters (MIN_TOKEN_LENGTH) or cannot be read.
   */
  ensureToken(file: string): string {
    return loadToken(file, { what: file === this.webhookTokenFile ? 'the webhook token file' : file === this.tokenFile ? 'the API token file' : 'the token file', tighten: true });
  }

  readToken(file = this.tokenFile): string | undefined {
    try {
      return readFileSync(file, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Writes a file atomically: a temp file in the same directory, flushed, then
 * renamed over `file`. When the write fails (a full disk) the temp file is removed
 * and `file` keeps its previous content.
 */
export function writeAtomic(file: string, data: string, mode = 0o600): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    writeFileSync(tmp, data, { mode, flush: true });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

export interface Endpoint {
  url: string;
  pid: number;
  started_at: string;
  state_dir: string;
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}
