#!/usr/bin/env node
// Sets the base URL of every alert's runbook_url in prometheus/rules/*.yml, so the link
// in a notification, in Alertmanager and in Grafana is absolute and clickable. Each
// runbook_url is `<base>#<alert name in lower case>`: the alert's section in
// docs/alerting.md. Point it at wherever you publish the docs (your fork, an internal
// wiki mirror), then rebuild the Kubernetes PrometheusRule:
//
//   node prometheus/runbooks.mjs --base-url https://git.example.com/ops/agentic/blob/main/docs/alerting.md
//   node deploy/kubernetes/generate-prometheusrule.mjs
//   node prometheus/runbooks.mjs --check     # exit 1 if a runbook_url is relative or not its alert's anchor
//
// The promtool unit tests in prometheus/tests expect the same URLs and change with them.
// --rules-dir <dir> works on another copy of the rules. Only the runbook_url lines change.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The base the shipped rules use: the project's docs/alerting.md. */
export const DEFAULT_BASE_URL = 'https://github.com/agentic-scrum/agentic-scrum-background/blob/main/docs/alerting.md';

const here = path.dirname(fileURLToPath(import.meta.url));

const ruleFiles = (dir) => readdirSync(dir).filter((f) => f.endsWith('.yml') || f.endsWith('.yaml')).sort().map((f) => path.join(dir, f));

/** Every alert of the rules files in `dir`: its name and runbook_url. */
export function runbooks(dir = path.join(here, 'rules')) {
  return ruleFiles(dir).flatMap((file) => (parse(readFileSync(file, 'utf8')).groups ?? []).flatMap((g) => (g.rules ?? []).filter((r) => r.alert).map((r) => ({ file, alert: r.alert, url: r.annotations?.runbook_url }))));
}

/** What is wrong with the runbook URLs in `dir` (nothing: an empty list). */
export function runbookProblems(dir) {
  const problems = [];
  const bases = new Set();
  for (const { file, alert, url } of runbooks(dir)) {
    const m = typeof url === 'string' ? /^(https?:\/\/[^\s#]+)#([a-z0-9_-]+)$/.exec(url) : null;
    if (!m) problems.push(`${path.basename(file)}: ${alert}: runbook_url ${JSON.stringify(url)} is not an absolute http(s) URL with an anchor`);
    else if (m[2] !== alert.toLowerCase()) problems.push(`${path.basename(file)}: ${alert}: runbook_url anchor #${m[2]}, expected #${alert.toLowerCase()}`);
    else bases.add(m[1]);
  }
  if (bases.size > 1) problems.push(`runbook_url bases differ: ${[...bases].join(', ')}`);
  return problems;
}

/**
 * Rewrites every runbook_url in the files of `dirs` (the rules, and the promtool unit
 * tests that expect them) to `<base>#<alert>`; returns how many changed.
 */
export function setBaseUrl(base, dirs = [path.join(here, 'rules'), path.join(here, 'tests')]) {
  let url;
  try {
    url = new URL(base);
  } catch {
    throw new Error(`--base-url: expected an absolute http(s) URL, got ${JSON.stringify(base)}`);
  }
  if (!/^https?:$/.test(url.protocol) || url.hash) throw new Error(`--base-url: expected an http(s) URL without a #fragment, got ${JSON.stringify(base)}`);
  let changed = 0;
  for (const file of dirs.flatMap(ruleFiles)) {
    const text = readFileSync(file, 'utf8');
    const next = text.replace(/^(\s*runbook_url:\s*)"?([^"\n#]*)#([A-Za-z0-9_-]+)"?[ \t]*$/gm, (_, lead, _old, anchor) => {
      changed++;
      return `${lead}"${base}#${anchor.toLowerCase()}"`;
    });
    if (next !== text) writeFileSync(file, next);
  }
  return changed;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const dir = opt('--rules-dir') ?? path.join(here, 'rules');
  // the shipped rules come with promtool tests that expect the same URLs; a copy (--rules-dir) is on its own
  const dirs = opt('--rules-dir') ? [dir] : [dir, path.join(here, 'tests')];
  try {
    if (args.includes('--check')) {
      const problems = runbookProblems(dir);
      for (const p of problems) process.stderr.write(`${p}\n`);
      process.exit(problems.length ? 1 : 0);
    }
    const base = opt('--base-url');
    if (!base) throw new Error('pass --base-url <url> (or --check); the shipped rules use ' + DEFAULT_BASE_URL);
    const n = setBaseUrl(base, dirs);
    process.stdout.write(`set ${n} runbook_url value(s) to ${base}#<alert>; now run node deploy/kubernetes/generate-prometheusrule.mjs\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
}
