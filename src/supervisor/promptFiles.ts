import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The `{prompt_file}` files of per_task runs: one 0600 file per task in
 * `<state_dir>/prompts/` (a 0700 directory), written before each run of the task
 * and removed when the run ends. Task ids are file-name safe (the API admits
 * `[A-Za-z0-9][A-Za-z0-9_.:-]*`); anything else is encoded.
 */
export class PromptFiles {
  readonly dir: string;

  constructor(stateRoot: string) {
    this.dir = path.join(stateRoot, 'prompts');
  }

  pathOf(taskId: string): string {
    const safe = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,200}$/.test(taskId) ? taskId : encodeURIComponent(taskId).replaceAll('%', '_');
    return path.join(this.dir, `${safe}.prompt`);
  }

  /** Writes the prompt (mode 0600, replacing an older file). @throws on a file system error. */
  write(file: string, prompt: string): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    rmSync(file, { force: true }); // a new file gets mode 0600 even if an old one was widened
    writeFileSync(file, prompt, { mode: 0o600, flag: 'wx' });
  }

  remove(file: string): void {
    rmSync(file, { force: true });
  }

  /** Removes files a killed supervisor left behind (at start, before any run). */
  clear(): number {
    let n = 0;
    try {
      for (const f of readdirSync(this.dir)) {
        if (!f.endsWith('.prompt')) continue;
        rmSync(path.join(this.dir, f), { force: true });
        n++;
      }
    } catch {
      // no directory yet
    }
    return n;
  }
}
