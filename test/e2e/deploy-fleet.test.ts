import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { resolvePgUrl } from '../../src/cli/queueBackend.js';
import { loadConfig } from '../../src/config/loadConfig.js';
import { checkPgUrl } from '../../src/store/pg/pgUrl.js';
import { arr, at, k8sManifests, K8S_FLEET_DIR, obj, tool, type Obj } from '../helpers/deployFiles.js';
import { ROOT } from '../helpers/harness.js';

/**
 * The fleet setup (docs/operations.md, "Running a fleet"): the compose profile `fleet`
 * and the Kubernetes overlay deploy/kubernetes-fleet, checked with docker-compose and
 * structurally (no Docker engine, no cluster and no kustomize in CI here): the supervisor
 * config validates against our schema with backend postgres, the URL reaches it where
 * that config reads it, images are pinned, probes and volumes are there, and no secret
 * is written down other than the REPLACE-ME placeholders the pods refuse.
 */

const tmp = mkdtempSync(path.join(tmpdir(), 'agentic-fleet-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const FLEET_CONFIG = path.join(ROOT, 'examples/fleet.yaml');
/** A tag that pins a version: not `latest`, with at least a major.minor. */
const PINNED = /^[a-z0-9./-]+:(\d+\.\d+[\w.-]*)$/;

describe('docker-compose.yml, profile fleet', () => {
  type Compose = { services: Record<string, Obj>; volumes: Obj };
  const r = tool('docker-compose', ['--profile', 'fleet', 'config'], 'docker-compose');
  const compose = parse(r.stdout) as Compose;
  const fleet = Object.entries(compose.services).filter(([, s]) => arr(s.profiles).includes('fleet'));
  const svc = (name: string) => obj(compose.services[name]);

  it('is valid for docker-compose with and without the profile, and the profile adds only its own services', () => {
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const q = tool('docker-compose', ['--profile', 'fleet', 'config', '--quiet'], 'docker-compose');
    expect(`${q.stdout}${q.stderr}`).toBe('');
    expect(fleet.map(([n]) => n).sort()).toEqual(['db-migrate', 'fleet-secrets', 'postgres', 'supervisor-fleet-a', 'supervisor-fleet-b']);
    for (const [name, s] of Object.entries(compose.services)) if (!['jaeger', ...fleet.map(([n]) => n)].includes(name)) expect(s.profiles, `${name} runs without a profile`).toBeUndefined();
  });

  it('PostgreSQL 15 pinned, its data on a volume, a healthcheck with pg_isready, its password from the generated file', () => {
    const pg = svc('postgres');
    expect(pg.image).toMatch(/^postgres:15\.\d+-bookworm$/);
    expect(arr(pg.volumes).map(String)).toContain('pg-data:/var/lib/postgresql/data:rw');
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['pg-data', 'fleet-secrets', 'fleet-a-state', 'fleet-b-state']));
    expect(arr(at(pg, 'healthcheck', 'test')).slice(0, 2)).toEqual(['CMD', 'pg_isready']);
    expect(at(pg, 'environment', 'POSTGRES_PASSWORD_FILE')).toBe('/fleet-secrets/postgres-password');
    expect(at(pg, 'environment', 'POSTGRES_PASSWORD')).toBeUndefined();
    expect(pg.ports, 'the database is not published on the host').toBeUndefined();
    for (const [name, s] of fleet) if (typeof s.image === 'string' && !s.build) expect(s.image, name).toMatch(PINNED);
  });

  it('the one-shot writes a URL that the supervisors\' config reads (url_file) and accepts, readable by uid 1000 only', () => {
    const cfg = loadConfig(FLEET_CONFIG);
    expect(cfg.background.queue.backend).toBe('postgres');
    const urlFile = cfg.background.queue.postgres?.url_file as string;
    // Run the one-shot's own script in a real sh, its volume a temp directory (chown needs root: dropped when not root).
    const dir = path.join(tmp, 'fleet-secrets');
    execFileSync('mkdir', ['-p', dir]);
    let script = String(arr(svc('fleet-secrets').command)[0]).replaceAll('/fleet-secrets', dir).replaceAll('$$', '$');
    if (process.getuid?.() !== 0) script = script.replace(/^chown .*$/gm, '');
    execFileSync('/bin/sh', ['-ec', script]);
    expect(script).toMatch(/chown 1000:1000 \S+\/queue-url/);
    const st = statSync(path.join(dir, path.basename(urlFile)));
    expect(st.mode & 0o777).toBe(0o400);
    if (process.getuid?.() === 0) expect([st.uid, statSync(path.join(dir, 'postgres-password')).uid]).toEqual([1000, 999]);
    const url = readFileSync(path.join(dir, path.basename(urlFile)), 'utf8');
    expect(() => checkPgUrl(url.trim())).not.toThrow();
    expect(new URL(url.trim()).password).toMatch(/^[0-9a-f]{32}$/);
    expect(new URL(url.trim()).host).toBe('postgres:5432');
    execFileSync('/bin/sh', ['-ec', script]); // a second `up` keeps the password
    expect(readFileSync(path.join(dir, path.basename(urlFile)), 'utf8')).toBe(url);
    expect(resolvePgUrl({ ...cfg.background.queue, postgres: { lease_seconds: 30, url_file: path.join(dir, path.basename(urlFile)) } })).toBe(url.trim());
    for (const name of ['db-migrate', 'supervisor-fleet-a', 'supervisor-fleet-b']) {
      const s = svc(name);
      expect(arr(s.volumes).map(String), name).toContain(`fleet-secrets:${path.dirname(urlFile)}:ro`);
      expect(arr(s.command).map(String), name).toEqual(expect.arrayContaining(['--config', '/app/examples/fleet.yaml']));
    }
    expect(arr(svc('db-migrate').command)).toEqual(['background', 'db', 'migrate', '--config', '/app/examples/fleet.yaml']);
  });

  it('the supervisors wait for the migration, which waits for a healthy database; each has its own state volume, healthcheck and loopback port', () => {
    expect(at(svc('db-migrate'), 'depends_on', 'postgres', 'condition')).toBe('service_healthy');
    const states = new Set<string>();
    for (const name of ['supervisor-fleet-a', 'supervisor-fleet-b']) {
      const s = svc(name);
      expect(at(s, 'depends_on', 'db-migrate', 'condition'), name).toBe('service_completed_successfully');
      expect(at(s, 'environment', 'AGENTIC_STATE_DIR')).toBe('/var/lib/agentic');
      const state = arr(s.volumes).map(String).find((v) => v.includes(':/var/lib/agentic:')) as string;
      states.add(state.split(':')[0] as string);
      expect(arr(at(s, 'healthcheck', 'test')).join(' '), name).toContain('/healthz');
      for (const p of arr(s.ports)) expect(String(obj(p).host_ip ?? p), name).toMatch(/^127\.0\.0\.1/);
    }
    expect(states.size).toBe(2);
  });

  it('writes no password: only the generated file carries it', () => {
    const text = readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(text).not.toMatch(/postgres:\/\/[^:\s]+:(?!%s@)[^@\s]+@/); // the one-shot's printf template only
    expect(text).not.toMatch(/POSTGRES_PASSWORD:/);
  });
});

describe('deploy/kubernetes-fleet', () => {
  const all = k8sManifests(K8S_FLEET_DIR);
  const kust = parse(readFileSync(path.join(K8S_FLEET_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[]; patches: { path: string }[]; images: unknown[] };
  const patchFiles = kust.patches.map((p) => p.path);
  const resources = all.filter((m) => !patchFiles.includes(m.file));
  const patches = all.filter((m) => patchFiles.includes(m.file));
  const one = (kind: string, name: string) => resources.find((m) => m.kind === kind && m.name === name)?.doc;
  const secret = obj(at(one('Secret', 'agentic-postgres'), 'stringData'));
  const base = k8sManifests();
  const baseKust = parse(readFileSync(path.join(ROOT, 'deploy/kubernetes/kustomization.yaml'), 'utf8')) as { images: unknown[] };

  it('builds on the base and lists every file of its own, with the base\'s image', () => {
    expect(kust.resources[0]).toBe('../kubernetes');
    const own = readdirSync(K8S_FLEET_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
    expect([...kust.resources.slice(1), ...patchFiles].sort()).toEqual(own);
    expect(kust.images).toEqual(baseKust.images);
    for (const m of all) {
      expect(m.doc.apiVersion, `${m.file} ${m.kind}`).toMatch(/^([a-z0-9.-]+\/)?v\d+$/);
      expect(at(m.doc, 'metadata', 'namespace'), `${m.kind}/${m.name}`).toBe('agentic');
    }
  });

  it('PostgreSQL: a pinned 15 image, one pod, data on a PVC, pg_isready probes, non-root, its password from the Secret, a Service that selects it', () => {
    const sts = obj(one('StatefulSet', 'agentic-postgres'));
    const spec = obj(sts.spec);
    expect(spec.replicas).toBe(1);
    const pod = obj(at(spec, 'template', 'spec'));
    const c = obj(at(pod, 'containers', 0));
    expect(c.image).toMatch(/^postgres:15\.\d+-bookworm$/);
    for (const ic of arr(pod.initContainers)) expect(obj(ic).image).toBe(c.image);
    for (const probe of ['readinessProbe', 'livenessProbe']) expect(arr(at(c, probe, 'exec', 'command'))[0], probe).toBe('pg_isready');
    expect(at(pod, 'securityContext', 'runAsNonRoot')).toBe(true);
    expect(at(spec, 'volumeClaimTemplates', 0, 'spec', 'resources', 'requests', 'storage')).toMatch(/^\d+Gi$/);
    expect(arr(c.volumeMounts)).toContainEqual({ name: 'data', mountPath: '/var/lib/postgresql/data' });
    const env = Object.fromEntries(arr(c.env).map((e) => [obj(e).name, obj(e).value]));
    expect(env.POSTGRES_PASSWORD).toBeUndefined();
    const pwFile = String(env.POSTGRES_PASSWORD_FILE);
    const mount = arr(c.volumeMounts).map(obj).find((m) => pwFile.startsWith(`${String(m.mountPath)}/`)) as Obj;
    const vol = arr(pod.volumes).map(obj).find((v) => v.name === mount.name) as Obj;
    expect(at(vol, 'secret', 'secretName')).toBe('agentic-postgres');
    const item = arr(at(vol, 'secret', 'items')).map(obj).find((i) => i.path === path.basename(pwFile)) as Obj;
    expect(Object.keys(secret)).toContain(item.key);
    const svc = obj(one('Service', 'agentic-postgres'));
    expect(at(svc, 'spec', 'selector')).toEqual(at(spec, 'selector', 'matchLabels'));
    expect(at(svc, 'spec', 'ports', 0, 'targetPort')).toBe(at(c, 'ports', 0, 'name'));
    const np = obj(one('NetworkPolicy', 'agentic-postgres'));
    expect(at(np, 'spec', 'podSelector', 'matchLabels')).toEqual(at(spec, 'selector', 'matchLabels'));
    expect(at(np, 'spec', 'ingress', 0, 'from', 0, 'podSelector', 'matchLabels')).toEqual({ 'app.kubernetes.io/name': 'agentic-supervisor' });
  });

  it('the Secret holds placeholders only, and its URL names the Service', () => {
    for (const [k, v] of Object.entries(secret)) expect(String(v), k).toContain('REPLACE-ME');
    const u = checkPgUrl(String(secret['queue-url']));
    const svc = obj(one('Service', 'agentic-postgres'));
    expect(u.host).toBe(`agentic-postgres.agentic.svc:${String(at(svc, 'spec', 'ports', 0, 'port'))}`);
    expect(u.password).toBe(String(secret['postgres-password']));
  });

  it('each base shard gets a config with backend postgres and the base\'s agents, and the Secret\'s URL mounted where url_file reads it', () => {
    const shards = base.filter((m) => m.kind === 'StatefulSet' && at(m.doc, 'metadata', 'labels', 'app.kubernetes.io/name') === 'agentic-supervisor');
    expect(shards.length).toBeGreaterThanOrEqual(2);
    for (const s of shards) {
      const cmName = String(at(arr(at(s.doc, 'spec', 'template', 'spec', 'volumes')).find((v) => obj(v).name === 'config'), 'configMap', 'name'));
      const patchedCm = patches.find((p) => p.kind === 'ConfigMap' && p.name === cmName);
      expect(patchedCm, `a ConfigMap patch for ${cmName}`).toBeDefined();
      const file = path.join(tmp, `${cmName}.yaml`);
      writeFileSync(file, String(at(patchedCm?.doc, 'data', 'config.yaml')));
      const cfg = loadConfig(file);
      expect(cfg.background.queue.backend).toBe('postgres');
      writeFileSync(file, String(at(base.find((m) => m.kind === 'ConfigMap' && m.name === cmName)?.doc, 'data', 'config.yaml')));
      const baseCfg = loadConfig(file);
      expect(cfg.background.agents).toEqual(baseCfg.background.agents);
      expect({ ...cfg.background, queue: baseCfg.background.queue }).toEqual(baseCfg.background);
      const urlFile = String(cfg.background.queue.postgres?.url_file);
      const patch = patches.find((p) => p.kind === 'StatefulSet' && p.name === s.name);
      expect(patch, `a StatefulSet patch for ${s.name}`).toBeDefined();
      const podPatch = obj(at(patch?.doc, 'spec', 'template', 'spec'));
      const containerName = String(at(s.doc, 'spec', 'template', 'spec', 'containers', 0, 'name'));
      const c = arr(podPatch.containers).map(obj).find((x) => x.name === containerName) as Obj;
      const mount = arr(c.volumeMounts).map(obj).find((m) => m.mountPath === path.dirname(urlFile)) as Obj;
      expect(mount, `${s.name} mounts ${path.dirname(urlFile)}`).toBeDefined();
      const vol = arr(podPatch.volumes).map(obj).find((v) => v.name === mount.name) as Obj;
      expect(at(vol, 'secret', 'secretName')).toBe('agentic-postgres');
      const item = arr(at(vol, 'secret', 'items')).map(obj).find((i) => i.path === path.basename(urlFile)) as Obj;
      expect(item.key).toBe('queue-url');
      expect(Object.keys(secret)).toContain('queue-url');
      const init = arr(podPatch.initContainers).map(obj);
      expect(init.map((i) => i.name)).toEqual(['check-queue-url']);
      expect(String(arr(at(init[0], 'command')).at(-1))).toContain('REPLACE-ME');
    }
  });

  it('examples/fleet.yaml, the compose fleet\'s config, is valid and reads the URL from a file', () => {
    const cfg = loadConfig(FLEET_CONFIG);
    expect(cfg.background.queue).toMatchObject({ backend: 'postgres', postgres: { url_file: '/run/agentic/queue-url' } });
    expect(cfg.background.agents.length).toBeGreaterThan(0);
    expect(parseAllDocuments(readFileSync(FLEET_CONFIG, 'utf8'))).toHaveLength(1);
  });
});
