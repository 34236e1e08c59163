import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { loadConfig } from '../../src/config/loadConfig.js';
import { arr, at, k8sManifests, K8S_DIR, obj, tool, type Manifest } from '../helpers/deployFiles.js';
import { ROOT } from '../helpers/harness.js';

/**
 * The Kubernetes manifests, checked structurally (no cluster here): required
 * fields, selectors that select, names that agree between the ServiceMonitor and
 * the controller, Secret keys that exist, the supervisor accepting each shard's
 * config, and the PrometheusRule equal to prometheus/rules/*.yml.
 */

const tmp = mkdtempSync(path.join(tmpdir(), 'agentic-k8s-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('deploy/kubernetes', () => {
  const all = k8sManifests();
  const of = (kind: string) => all.filter((m) => m.kind === kind);
  const one = (kind: string, name: string) => all.find((m) => m.kind === kind && m.name === name) as Manifest;
  const labelsMatch = (selector: unknown, labels: unknown) => Object.entries(obj(selector)).every(([k, v]) => obj(labels)[k] === v);
  const secretKeys = new Set(Object.keys(obj(at(one('Secret', 'agentic-tokens')?.doc, 'stringData'))));

  it('every manifest has apiVersion, kind, name and the agentic namespace, and the kustomization lists every file', () => {
    for (const m of all) {
      expect(m.doc.apiVersion, `${m.file} ${m.kind}`).toMatch(/^([a-z0-9.-]+\/)?v\d+((alpha|beta)\d+)?$/);
      expect(m.name, m.file).toMatch(/^[a-z0-9-]+$/);
      if (m.kind !== 'Namespace') expect(at(m.doc, 'metadata', 'namespace'), `${m.kind}/${m.name}`).toBe('agentic');
    }
    const kust = parse(readFileSync(path.join(K8S_DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[] };
    expect([...kust.resources].sort()).toEqual(readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort());
  });

  it('each supervisor shard is a StatefulSet of one with its state on a PVC, a headless Service, and a config the supervisor accepts', () => {
    const sets = of('StatefulSet');
    expect(sets.length).toBeGreaterThanOrEqual(2);
    for (const s of sets) {
      const spec = obj(s.doc.spec);
      expect(spec.replicas, s.name).toBe(1);
      const svc = one('Service', String(spec.serviceName));
      expect(at(svc?.doc, 'spec', 'clusterIP'), `${s.name} service`).toBe('None');
      const podLabels = at(spec, 'template', 'metadata', 'labels');
      expect(labelsMatch(at(spec, 'selector', 'matchLabels'), podLabels), s.name).toBe(true);
      expect(labelsMatch(at(svc?.doc, 'spec', 'selector'), podLabels), `${s.name} service selects its pod`).toBe(true);
      expect(at(spec, 'volumeClaimTemplates', 0, 'spec', 'resources', 'requests', 'storage'), s.name).toMatch(/^\d+[GM]i$/);
      const pod = obj(at(spec, 'template', 'spec'));
      expect(at(pod, 'securityContext', 'runAsNonRoot'), s.name).toBe(true);
      const c = obj(at(pod, 'containers', 0));
      expect(at(c, 'livenessProbe', 'httpGet', 'path')).toBe('/healthz');
      expect(at(c, 'readinessProbe', 'httpGet', 'path')).toBe('/readyz');
      expect(arr(c.volumeMounts)).toContainEqual({ name: 'state', mountPath: '/var/lib/agentic' });
      const cm = one('ConfigMap', String(at(arr(pod.volumes).find((v) => obj(v).name === 'config'), 'configMap', 'name')));
      const file = path.join(tmp, `${s.name}.yaml`);
      writeFileSync(file, String(at(cm?.doc, 'data', 'config.yaml')));
      const cfg = loadConfig(file);
      expect(cfg.background.state_dir).toBe('/var/lib/agentic');
      expect(cfg.background.agents.length, s.name).toBeGreaterThan(0);
      for (const v of arr(pod.volumes)) for (const item of arr(at(v, 'secret', 'items'))) expect(secretKeys.has(String(obj(item).key)), `${s.name} secret key`).toBe(true);
    }
  });

  it('the controller reaches every shard at the same host:port the ServiceMonitor writes into the instance label', () => {
    const ctl = one('Deployment', 'agentic-controller');
    const args = arr(at(ctl?.doc, 'spec', 'template', 'spec', 'containers', 0, 'args')).map(String);
    const sups = args.filter((_, i) => args[i - 1] === '--supervisor');
    const relabel = obj(arr(at(one('ServiceMonitor', 'agentic-supervisor')?.doc, 'spec', 'endpoints', 0, 'relabelings')).find((r) => obj(r).targetLabel === 'instance'));
    for (const s of of('StatefulSet')) {
      const svc = String(at(s.doc, 'spec', 'serviceName'));
      const source = [`${s.name}-0`, svc, 'agentic'].join(String(relabel.separator));
      const instance = source.replace(new RegExp(`^${String(relabel.regex)}$`), String(relabel.replacement).replace(/\$(\d)/g, '$$$1'));
      const spec = sups.find((x) => x.startsWith(`http://${instance}=`));
      expect(spec, `--supervisor for ${s.name} (instance ${instance})`).toBeDefined();
      expect(secretKeys.has(path.basename(String(spec?.split('=')[1]))), `${s.name} token in the Secret`).toBe(true);
    }
  });

  it('ServiceMonitors select existing Services by label and port name', () => {
    for (const sm of of('ServiceMonitor')) {
      const services = of('Service').filter((s) => labelsMatch(at(sm.doc, 'spec', 'selector', 'matchLabels'), at(s.doc, 'metadata', 'labels')));
      expect(services.length, sm.name).toBeGreaterThan(0);
      const port = String(at(sm.doc, 'spec', 'endpoints', 0, 'port'));
      for (const s of services) expect(arr(at(s.doc, 'spec', 'ports')).some((p) => obj(p).name === port), `${s.name} port ${port}`).toBe(true);
    }
  });

  it('Alertmanager routes action="restart" to the controller Service with the token from the Secret', () => {
    const amc = one('AlertmanagerConfig', 'agentic-recovery')?.doc;
    expect(arr(at(amc, 'spec', 'route', 'matchers'))).toContainEqual({ name: 'action', value: 'restart', matchType: '=' });
    const hook = obj(at(amc, 'spec', 'receivers', 0, 'webhookConfigs', 0));
    const svc = one('Service', 'agentic-controller');
    expect(hook.url).toBe(`http://${svc.name}.agentic.svc:${String(at(svc.doc, 'spec', 'ports', 0, 'port'))}/api/v1/alerts`);
    const cred = obj(at(hook, 'httpConfig', 'authorization', 'credentials'));
    expect(cred.name).toBe('agentic-tokens');
    expect(secretKeys.has(String(cred.key))).toBe(true);
  });

  it('the PrometheusRule holds exactly the groups of prometheus/rules/*.yml, up to date and valid for promtool', () => {
    const rulesDir = path.join(ROOT, 'prometheus/rules');
    const groups = readdirSync(rulesDir).filter((f) => f.endsWith('.yml')).sort().flatMap((f) => arr(obj(parse(readFileSync(path.join(rulesDir, f), 'utf8'))).groups));
    const rule = one('PrometheusRule', 'agentic-rules')?.doc;
    expect(at(rule, 'spec', 'groups')).toEqual(groups);
    const check = tool(process.execPath, [path.join(K8S_DIR, 'generate-prometheusrule.mjs'), '--check'], 'nodejs');
    expect(`${check.stdout}${check.stderr}`).toContain('is up to date');
    expect(check.status).toBe(0);
    const file = path.join(tmp, 'prometheusrule-groups.yml');
    writeFileSync(file, stringify({ groups: at(rule, 'spec', 'groups') }));
    const promtool = tool('promtool', ['check', 'rules', file], 'prometheus');
    expect(promtool.stdout).toMatch(/SUCCESS: \d+ rules found/);
    expect(promtool.status).toBe(0);
  });
});
