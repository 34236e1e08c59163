import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** What `start` notes about the supervisor it started, so that a plain `status` elsewhere finds it. */
export interface LastStart {
  /** Absolute. */
  state_dir: string;
  /** The --config it was started with, absolute. */
  config: string;
  at: string;
}

/** `$XDG_STATE_HOME/agentic-scrum-background/last-start.json` (XDG_STATE_HOME defaults to ~/.local/state). */
export function lastStartFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state'), 'agentic-scrum-background', 'last-start.json');
}

/** Notes the state directory a start used. Best effort: a read-only home must not stop a start. */
export function recordStart(stateDir: string, config: string, env: NodeJS.ProcessEnv = process.env): void {
  const file = lastStartFile(env);
  const body: LastStart = { state_dir: path.resolve(stateDir), config: path.resolve(config), at: new Date().toISOString() };
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(body)}\n`);
    renameSync(tmp, file);
  } catch {
    // nothing to do: `status` then needs --config or --state-dir, and says so
  }
}

/** The last start noted, or undefined when there is none (or it cannot be read). */
export function readLastStart(env: NodeJS.ProcessEnv = process.env): LastStart | undefined {
  try {
    const v = JSON.parse(readFileSync(lastStartFile(env), 'utf8')) as Partial<LastStart>;
    return typeof v.state_dir === 'string' && typeof v.config === 'string' ? (v as LastStart) : undefined;
  } catch {
    return undefined;
  }
}
