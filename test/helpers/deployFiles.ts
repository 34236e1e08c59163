import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from './harness.js';

export type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
export const obj = (v: unknown): Obj => (isObj(v) ? v : {});
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** Follows a path of keys and indexes: at(doc, 'spec', 'template', 'spec', 'containers', 0). */
export function at(v: unknown, ...keys: (string | number)[]): unknown {
  let cur = v;
  for (const k of keys) cur = typeof k === 'number' ? arr(cur)[k] : obj(cur)[k];
  return cur;
}

export const K8S_DIR = path.join(ROOT, 'deploy/kubernetes');
/** The fleet overlay: the base plus PostgreSQL (a sibling: kustomize refuses an overlay inside its base). */
export const K8S_FLEET_DIR = path.join(ROOT, 'deploy/kubernetes-fleet');

export interface Manifest { file: string; doc: Obj; kind: string; name: string }

/** Every document of every YAML file in `dir` (default deploy/kubernetes; the kustomization excluded). */
export function k8sManifests(dir = K8S_DIR): Manifest[] {
  const out: Manifest[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort()) {
    for (const d of parseAllDocuments(readFileSync(path.join(dir, file), 'utf8'))) {
      if (d.errors.length) throw new Error(`${file}: ${d.errors[0]?.message}`);
      const doc = obj(d.toJS());
      out.push({ file, doc, kind: String(doc.kind), name: String(at(doc, 'metadata', 'name')) });
    }
  }
  return out;
}

/** Runs a tool; a missing binary throws with the Debian package to install (no skipping). */
export function tool(cmd: string, args: string[], pkg: string, opts: { cwd?: string; input?: string } = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? ROOT, input: opts.input, encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(missing ? `${cmd} is not installed (Debian: apt-get install ${pkg}): these tests do not skip` : `${cmd} ${args.join(' ')}: ${r.error.message}`);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Dockerfile instructions (continuations joined), comments dropped, with the stage each belongs to. */
export function dockerInstructions(text: string): { op: string; args: string; stage: number }[] {
  const joined = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  let stage = -1;
  return joined.map((l) => {
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(l);
    const op = (m?.[1] ?? l).toUpperCase();
    if (op === 'FROM') stage++;
    return { op, args: m?.[2] ?? '', stage };
  });
}
