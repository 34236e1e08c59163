import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ConfigError, type ConfigProblem } from '../../src/config/ConfigError.js';
import { schemaAt } from '../../src/config/introspect.js';
import { ENV_OVERRIDES, loadConfig, overridesFromEnv, parseConfig, type ConfigOverrides } from '../../src/config/loadConfig.js';
import { configSchema, parseDurationSeconds } from '../../src/config/schema.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string) => path.join(here, '../fixtures/configs', name);
const DOCS = path.join(here, '../../docs/configuration.md');

const tmp = mkdtempSync(path.join(tmpdir(), 'agentic-config-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let fileCount = 0;
/** Writes YAML text to a temporary file and loads it, as the CLI would. */
const loadYaml = (text: string, overrides?: ConfigOverrides) => {
  const file = path.join(tmp, `config-${++fileCount}.yaml`);
  writeFileSync(file, text);
  return loadConfig(file, overrides);
};

/** The ConfigError's problems; fails the test when the config is accepted or another error is thrown. */
function problemsOf(fn: () => unknown): ConfigProblem[] {
  let result: unknown;
  try {
    result = fn();
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  throw new Error(`expected a ConfigError, but the config was accepted: ${JSON.stringify(result).slice(0, 300)}`);
}
const errorOf = (fn: () => unknown): ConfigError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
};

const seedText = readFileSync(fixture('seed.yaml'), 'utf8');

describe('the seed configuration', () => {
  it('loads verbatim and keeps every value it sets', () => {
    const cfg = loadConfig(fixture('seed.yaml'));
    const m = cfg.background.monitoring;
    expect(m.enabled).toBe(true);
    expect(m.check_interval).toBe(30);
    expect(m.health_checks.agent_response).toMatchObject({ timeout: 10, max_failures: 3 });
    expect(m.health_checks.resource_usage).toMatchObject({ max_cpu_percent: 80, max_memory_mb: 1024 });
    expect(m.health_checks.task_progress).toMatchObject({ max_task_duration: 300, stale_task_threshold: 180 });
    expect(m.alerts.email).toMatchObject({ enabled: true, recipients: ['dev@example.com'] });
    expect(m.alerts.webhook).toMatchObject({ enabled: true, url: 'https://hooks.slack.com/services/...' });
    expect(m.recovery).toMatchObject({ restart_attempts: 3, backoff_multiplier: 2, circuit_breaker_threshold: 5 });
  });

  it('fills every key the seed leaves out with its default', () => {
    const cfg = loadConfig(fixture('seed.yaml'));
    const bg = cfg.background;
    expect(bg.state_dir).toBe(path.resolve('.agentic/background'));
    expect(bg.shutdown_timeout).toBe(15);
    expect(bg.server).toEqual({ host: '127.0.0.1', port: 9464, body_limit_bytes: 1048576 });
    expect(bg.logging.level).toBe('info');
    expect(bg.monitoring.sample_interval).toBe(5);
    expect(bg.monitoring.health_checks.agent_response).toEqual({ enabled: true, timeout: 10, max_failures: 3, heartbeat_miss_multiplier: 3 });
    expect(bg.monitoring.health_checks.memory_leaks).toEqual({ enabled: true, window: 300, warmup: 60, min_growth_mb_per_min: 1, min_r_squared: 0.6, restart_horizon: 1800 });
    expect(bg.monitoring.alerts.console).toEqual({ enabled: true });
    expect(bg.monitoring.recovery).toMatchObject({ base_delay: 1, max_delay: 60, jitter: 0.2, restart_unhealthy: true });
    expect(bg.agents).toEqual([]);
  });

  it('loads with agents appended under background:, and fills agent defaults', () => {
    const text = seedText + readFileSync(fixture('seed-agents.fragment.yaml'), 'utf8');
    expect(text.startsWith(seedText)).toBe(true);
    const cfg = loadYaml(text);
    expect(cfg.background.monitoring.check_interval).toBe(30);
    expect(cfg.background.agents.map((a) => a.name)).toEqual(['saa', 'deva_python', 'deva_ts']);
    const [saa, deva_python, deva_ts] = cfg.background.agents;
    expect(saa).toEqual({
      name: 'saa', role: 'saa', mode: 'service', command: ['node', 'examples/agents/saa.js'], replicas: 1, max_concurrent: 3,
      env: {}, secret_env: [], stdout_adapter: 'none', max_result_bytes: 67108864, stop_timeout: 10, heartbeat_interval: 5, restart: 'always', connectivity: [], result_grace: 10, stdin: 'none',
    });
    expect(deva_python).toMatchObject({ replicas: 2, env: { PYTHONUNBUFFERED: '1' } });
    expect(deva_ts).toMatchObject({ role: 'deva_typescript', mode: 'per_task', max_concurrent: 3, stdout_adapter: 'claude-stream-json', replicas: 1 });
  });

  it('is deeply frozen', () => {
    const cfg = loadYaml(seedText + readFileSync(fixture('seed-agents.fragment.yaml'), 'utf8'));
    const agent = cfg.background.agents[0]!;
    for (const o of [cfg, cfg.background, cfg.background.monitoring.recovery, cfg.background.agents, agent, agent.command, agent.env, cfg.background.monitoring.alerts.email.recipients]) {
      expect(Object.isFrozen(o)).toBe(true);
    }
    expect(() => {
      (cfg.background.monitoring as { check_interval: number }).check_interval = 1;
    }).toThrow(TypeError);
    expect(() => (agent.command as string[]).push('--x')).toThrow(TypeError);
    expect(cfg.background.monitoring.check_interval).toBe(30);
  });

  it('returns independent objects: freezing one result does not freeze the defaults of the next', () => {
    const a = parseConfig({});
    const b = parseConfig({});
    expect(a.background.monitoring).not.toBe(b.background.monitoring);
    expect(a).toEqual(b);
  });
});

describe('values', () => {
  it('reads durations as seconds: "500ms", "30s", "5m", "1h", bare numbers and digit strings', () => {
    const cfg = parseConfig({
      background: {
        shutdown_timeout: '500ms',
        monitoring: { check_interval: '30s', sample_interval: 0.25, health_checks: { memory_leaks: { window: '5m', warmup: '90' } }, recovery: { max_delay: '1h', base_delay: 0 } },
      },
    });
    expect(cfg.background.shutdown_timeout).toBe(0.5);
    expect(cfg.background.monitoring.check_interval).toBe(30);
    expect(cfg.background.monitoring.sample_interval).toBe(0.25);
    expect(cfg.background.monitoring.health_checks.memory_leaks.window).toBe(300);
    expect(cfg.background.monitoring.health_checks.memory_leaks.warmup).toBe(90);
    expect(cfg.background.monitoring.recovery.max_delay).toBe(3600);
    expect(cfg.background.monitoring.recovery.base_delay).toBe(0);
    expect(parseDurationSeconds('1.5h')).toBe(5400);
    expect(parseDurationSeconds('thirty')).toBeNaN();
    expect(parseDurationSeconds('-1s')).toBeNaN();
    expect(parseDurationSeconds('5 days')).toBeNaN();
  });

  it('treats an empty section (all keys commented out) as absent', () => {
    const cfg = loadYaml('background:\n  monitoring:\n    # check_interval: 10\n  server:\n  agents:\n');
    expect(cfg.background.monitoring.check_interval).toBe(30);
    expect(cfg.background.server.port).toBe(9464);
    expect(cfg.background.agents).toEqual([]);
  });

  it('ignores top-level x- keys and supports YAML merge keys for shared agent settings', () => {
    const cfg = loadYaml(
      ['x-agent: &base', '  command: ["node", "a.js"]', '  stop_timeout: 20s', 'background:', '  agents:', '    - <<: *base', '      name: qaa', '    - <<: *base', '      name: sma', '      stop_timeout: 5'].join('\n'),
    );
    expect(cfg.background.agents.map((a) => [a.name, a.command, a.stop_timeout])).toEqual([
      ['qaa', ['node', 'a.js'], 20],
      ['sma', ['node', 'a.js'], 5],
    ]);
  });

  it('accepts an empty file as all defaults', () => {
    expect(loadYaml('# nothing configured yet\n')).toEqual(parseConfig({}));
  });
});

/**
 * Malformed configs. Each names the exact key path and the "expected …, got …"
 * wording. `only` means this must be the single problem reported.
 */
const MALFORMED: { name: string; yaml: string; path: string; message: string | RegExp; only?: boolean }[] = [
  { name: 'a duration written as a word', yaml: 'background:\n  monitoring:\n    check_interval: thirty\n', path: 'background.monitoring.check_interval', message: /^expected a positive number of seconds, got "thirty"; write a number of seconds such as 30, or a duration such as "500ms"/, only: true },
  { name: 'a negative duration', yaml: 'background:\n  monitoring:\n    recovery:\n      max_delay: -5\n', path: 'background.monitoring.recovery.max_delay', message: /^expected a positive number of seconds, got -5 \(number\)/, only: true },
  { name: 'a zero duration', yaml: 'background:\n  monitoring:\n    check_interval: 0\n', path: 'background.monitoring.check_interval', message: /^expected a positive number of seconds, got 0 \(number\)/, only: true },
  { name: 'a negative duration string where zero is allowed', yaml: 'background:\n  monitoring:\n    recovery:\n      base_delay: "-1s"\n', path: 'background.monitoring.recovery.base_delay', message: /^expected a non-negative number of seconds, got "-1s"/, only: true },
  { name: 'a duration too long for a timer', yaml: 'background:\n  shutdown_timeout: 3000000\n', path: 'background.shutdown_timeout', message: 'expected a positive number of seconds up to 2147483 (about 24.8 days), got 3000000 (number)', only: true },
  { name: 'a string where a boolean goes', yaml: 'background:\n  monitoring:\n    enabled: "yes"\n', path: 'background.monitoring.enabled', message: 'expected true or false, got "yes"', only: true },
  { name: 'a list where a section goes', yaml: 'background:\n  server: [1, 2]\n', path: 'background.server', message: 'expected a mapping, got a list', only: true },
  { name: 'a number where a section goes', yaml: 'background:\n  monitoring: 3\n', path: 'background.monitoring', message: 'expected a mapping, got 3 (number)', only: true },
  { name: 'a mapping where the agents list goes', yaml: 'background:\n  agents:\n    qaa:\n      command: [node]\n', path: 'background.agents', message: 'expected a list, got a mapping', only: true },
  { name: 'a bare name as an agent entry', yaml: 'background:\n  agents: [qaa]\n', path: 'background.agents[0]', message: 'expected a mapping, got "qaa"', only: true },
  { name: 'a fractional integer', yaml: 'background:\n  agents:\n    - name: qaa\n      command: [node]\n      replicas: 1.5\n', path: 'background.agents[0].replicas', message: 'expected an integer from 1 to 1000, got 1.5 (number)', only: true },
  { name: 'an unknown top-level key', yaml: 'backgrund:\n  monitoring: {}\n', path: 'backgrund', message: 'unknown key; did you mean "background"? (expected one of: background)', only: true },
  { name: 'a section written at the top level', yaml: 'monitoring:\n  enabled: true\n', path: 'monitoring', message: 'unknown key; did you mean "background.monitoring"? (expected one of: background)', only: true },
  { name: 'an unknown key in monitoring', yaml: 'background:\n  monitoring:\n    chek_interval: 30\n', path: 'background.monitoring.chek_interval', message: 'unknown key; did you mean "check_interval"? (expected one of: enabled, check_interval, sample_interval, health_checks, alerts, recovery)', only: true },
  { name: 'an unknown key in health_checks', yaml: 'background:\n  monitoring:\n    health_checks:\n      agent_respons:\n        timeout: 10\n', path: 'background.monitoring.health_checks.agent_respons', message: /^unknown key; did you mean "agent_response"\? \(expected one of: agent_response, resource_usage, task_progress, memory_leaks, llm_progress, connectivity\)$/, only: true },
  { name: 'an unknown key inside a health check', yaml: 'background:\n  monitoring:\n    health_checks:\n      resource_usage:\n        max_memmory_mb: 512\n', path: 'background.monitoring.health_checks.resource_usage.max_memmory_mb', message: /^unknown key; did you mean "max_memory_mb"\?/, only: true },
  { name: 'an unknown key in an agent entry', yaml: 'background:\n  agents:\n    - name: qaa\n      comand: [node]\n      command: [node]\n', path: 'background.agents[0].comand', message: /^unknown key; did you mean "command"\? \(expected one of: name, role, mode, command,/, only: true },
  { name: 'an unknown key with no close match', yaml: 'background:\n  monitoring:\n    zzz: 1\n', path: 'background.monitoring.zzz', message: 'unknown key (expected one of: enabled, check_interval, sample_interval, health_checks, alerts, recovery)', only: true },
  { name: 'a command given as a string', yaml: 'background:\n  agents:\n    - name: qaa\n      command: "node qaa.js --fast"\n', path: 'background.agents[0].command', message: 'expected a non-empty list of strings (an argv list such as ["node", "agent.js"]; commands are never run through a shell), got "node qaa.js --fast"; write it as a list, for example ["node", "qaa.js", "--fast"]', only: true },
  { name: 'an empty command list', yaml: 'background:\n  agents:\n    - name: qaa\n      command: []\n', path: 'background.agents[0].command', message: /^expected a non-empty list of strings .*, got an empty list$/, only: true },
  { name: 'a command with a non-string item', yaml: 'background:\n  agents:\n    - name: qaa\n      command: [node, 5]\n', path: 'background.agents[0].command', message: /, got a list whose item \[1\] is 5 \(number\)$/, only: true },
  { name: 'a missing command', yaml: 'background:\n  agents:\n    - name: qaa\n', path: 'background.agents[0].command', message: /, got nothing \(the key is missing\)$/, only: true },
  { name: 'an invalid agent name', yaml: 'background:\n  agents:\n    - name: Deva-Python\n      command: [python3]\n', path: 'background.agents[0].name', message: 'expected a name of 1 to 63 lowercase letters, digits and "_", starting with a letter (like "deva_python"), got "Deva-Python"; did you mean "deva_python"?', only: true },
  { name: 'duplicate agent names', yaml: 'background:\n  agents:\n    - name: qaa\n      command: [a]\n    - name: sma\n      command: [b]\n    - name: qaa\n      command: [c]\n', path: 'background.agents[2].name', message: 'expected a unique agent name, got "qaa" again (first at background.agents[0])', only: true },
  { name: 'an unknown mode', yaml: 'background:\n  agents:\n    - name: qaa\n      command: [a]\n      mode: per-task\n', path: 'background.agents[0].mode', message: 'expected one of "service", "per_task", got "per-task"; did you mean "per_task"?', only: true },
  { name: 'an unknown stdout_adapter', yaml: 'background:\n  agents:\n    - name: qaa\n      command: [a]\n      stdout_adapter: json\n', path: 'background.agents[0].stdout_adapter', message: 'expected one of "none", "ndjson", "claude-stream-json", got "json"; did you mean "ndjson"?', only: true },
  { name: 'per_task with replicas > 1', yaml: 'background:\n  agents:\n    - name: saa\n      mode: per_task\n      command: [claude]\n      replicas: 2\n', path: 'background.agents[0].replicas', message: 'expected no replicas for a per_task agent (it starts one process per task; use max_concurrent to run several at once), got 2 (number)', only: true },
  { name: 'a port above 65535', yaml: 'background:\n  server:\n    port: 70000\n', path: 'background.server.port', message: 'expected a TCP port from 0 to 65535, got 70000 (number)', only: true },
  { name: 'a negative port', yaml: 'background:\n  server:\n    port: -1\n', path: 'background.server.port', message: 'expected a TCP port from 0 to 65535, got -1 (number)', only: true },
  { name: 'jitter above 1', yaml: 'background:\n  monitoring:\n    recovery:\n      jitter: 1.5\n', path: 'background.monitoring.recovery.jitter', message: 'expected a fraction from 0 to 1, got 1.5 (number)', only: true },
  { name: 'max_delay below base_delay', yaml: 'background:\n  monitoring:\n    recovery:\n      base_delay: 10s\n      max_delay: 5s\n', path: 'background.monitoring.recovery.max_delay', message: 'expected at least base_delay (10s), got 5s', only: true },
  { name: 'max_delay below the default base_delay', yaml: 'background:\n  monitoring:\n    recovery:\n      max_delay: 500ms\n', path: 'background.monitoring.recovery.max_delay', message: 'expected at least base_delay (1s), got 0.5s', only: true },
  { name: 'an unknown log level', yaml: 'background:\n  logging:\n    level: verbose\n', path: 'background.logging.level', message: 'expected one of "trace", "debug", "info", "warn", "error", "fatal", got "verbose"', only: true },
  { name: 'a nested mapping as an env value', yaml: 'background:\n  agents:\n    - name: qaa\n      command: [a]\n      env:\n        DEBUG: {on: true}\n', path: 'background.agents[0].env.DEBUG', message: 'expected a string, got a mapping', only: true },
  { name: 'an invalid environment variable name', yaml: 'background:\n  agents:\n    - name: qaa\n      command: [a]\n      secret_env: [API-KEY]\n', path: 'background.agents[0].secret_env[0]', message: 'expected an environment variable name, got "API-KEY"', only: true },
  { name: 'email alerts enabled without recipients', yaml: 'background:\n  monitoring:\n    alerts:\n      email:\n        enabled: true\n', path: 'background.monitoring.alerts.email.recipients', message: 'expected at least one email address when email alerts are enabled, got nothing (the key is missing)', only: true },
  { name: 'a recipient that is not an email address', yaml: 'background:\n  monitoring:\n    alerts:\n      email:\n        recipients: ["dev at example.com"]\n', path: 'background.monitoring.alerts.email.recipients[0]', message: 'expected an email address, got "dev at example.com"', only: true },
  { name: 'a webhook that is not a URL', yaml: 'background:\n  monitoring:\n    alerts:\n      webhook:\n        enabled: true\n        url: hooks.slack.com\n', path: 'background.monitoring.alerts.webhook.url', message: 'expected an http(s) URL, got "hooks.slack.com"', only: true },
  { name: 'webhook alerts enabled without a URL', yaml: 'background:\n  monitoring:\n    alerts:\n      webhook:\n        enabled: true\n', path: 'background.monitoring.alerts.webhook.url', message: 'expected an http(s) URL when webhook alerts are enabled, got nothing (the key is missing)', only: true },
  { name: 'an http probe without a URL', yaml: 'background:\n  agents:\n    - name: qaa\n      command: [a]\n      probe:\n        type: http\n', path: 'background.agents[0].probe.url', message: 'expected an http(s) URL for a http probe, got nothing (the key is missing)', only: true },
  { name: 'a connectivity target with neither url nor address', yaml: 'background:\n  agents:\n    - name: qaa\n      command: [a]\n      connectivity:\n        - name: llm\n', path: 'background.agents[0].connectivity[0]', message: 'expected a "url" or an "address" to check, got neither', only: true },
  { name: 'a bad host:port address', yaml: 'background:\n  agents:\n    - name: qaa\n      command: [a]\n      connectivity:\n        - address: "localhost:99999"\n', path: 'background.agents[0].connectivity[0].address', message: 'expected an address "host:port" with a port from 1 to 65535, got "localhost:99999"', only: true },
  { name: 'a breaker max cooldown below the cooldown', yaml: 'background:\n  monitoring:\n    recovery:\n      breaker_cooldown: 10m\n      breaker_max_cooldown: 5m\n', path: 'background.monitoring.recovery.breaker_max_cooldown', message: 'expected at least breaker_cooldown (600s), got 300s', only: true },
];

describe('malformed configs', () => {
  it('has at least 20 cases', () => expect(MALFORMED.length).toBeGreaterThanOrEqual(20));

  for (const c of MALFORMED) {
    it(`reports ${c.name} at ${c.path}`, () => {
      const problems = problemsOf(() => loadYaml(c.yaml));
      const hit = problems.find((p) => p.path === c.path);
      expect(hit, `no problem at ${c.path}; got ${JSON.stringify(problems)}`).toBeDefined();
      if (typeof c.message === 'string') expect(hit!.message).toBe(c.message);
      else expect(hit!.message).toMatch(c.message);
      if (c.only) expect(problems).toHaveLength(1);
    });
  }

  it('shows the problem in the message as "<path>: expected …, got …" (the wording from the issue)', () => {
    const err = errorOf(() => loadYaml('background:\n  monitoring:\n    check_interval: thirty\n'));
    expect(err.message).toContain('background.monitoring.check_interval: expected a positive number of seconds, got "thirty"');
    expect(err.message).toMatch(/^Invalid configuration in .*config-\d+\.yaml \(1 problem\):\n {2}- background/);
    expect(err.code).toBe('ERR_CONFIG');
    expect(err.exitCode).toBe(2);
  });

  it('lists every problem of a file in one error, schema and cross-key problems together', () => {
    const err = errorOf(() => loadConfig(fixture('many-problems.yaml')));
    expect(err.problems.map((p) => p.path).sort()).toEqual(
      [
        'background.monitoring.check_interval',
        'background.monitoring.helth_checks',
        'background.monitoring.recovery.jitter',
        'background.server.port',
        'background.agents[0].command',
        'background.agents[1].name',
      ].sort(),
    );
    expect(err.message).toContain('(6 problems):');
    for (const p of err.problems) expect(err.message).toContain(`  - ${p.path}: ${p.message}`);
    expect(err.file).toBe(fixture('many-problems.yaml'));
  });

  it('reports invalid YAML syntax with its line and column', () => {
    const problems = problemsOf(() => loadConfig(fixture('invalid-syntax.yaml')));
    expect(problems).toHaveLength(1);
    expect(problems[0]!.path).toBe('(line 4, column 5)');
    expect(problems[0]!.message).toMatch(/^invalid YAML: Flow sequence .*end with a \]$/);
  });

  it('reports a tab used for indentation with its line and column', () => {
    const problems = problemsOf(() => loadYaml('background:\n\tmonitoring: {}\n'));
    expect(problems).toEqual([{ path: '(line 2, column 1)', message: 'invalid YAML: Tabs are not allowed as indentation' }]);
  });

  it('reports a duplicate YAML key with its key path and both lines', () => {
    const problems = problemsOf(() => loadConfig(fixture('duplicate-key.yaml')));
    expect(problems).toEqual([
      { path: 'background.monitoring.check_interval', message: 'expected each key once, got it again at line 5, column 5 (first at line 3, column 5); keep one of them' },
    ]);
  });

  it('reports an alias to a node that contains it instead of recursing forever', () => {
    const problems = problemsOf(() => loadYaml('x-loop: &a [*a]\nbackground: {}\n'));
    expect(problems).toEqual([{ path: 'x-loop[0]', message: 'expected a value, got an alias *a to a node that contains it (at line 1, column 13)' }]);
  });

  it('reports a missing file with its absolute path and what to do', () => {
    const missing = path.join(tmp, 'nope', 'background.yaml');
    const err = errorOf(() => loadConfig(missing));
    expect(err.problems).toEqual([{ path: '(file)', message: `config file not found: ${missing}; check the path given to --config` }]);
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('reports a directory given as the file', () => {
    expect(problemsOf(() => loadConfig(tmp))).toEqual([{ path: '(file)', message: `expected a YAML file, got a directory: ${tmp}` }]);
  });

  it('reports a top-level list instead of a mapping', () => {
    expect(problemsOf(() => loadConfig(fixture('top-level-list.yaml')))).toEqual([
      { path: '(root)', message: 'expected a mapping with a top-level "background:" key, got a list' },
    ]);
  });

  it('reports a scalar document', () => {
    expect(problemsOf(() => loadYaml('just some text\n'))).toEqual([
      { path: '(root)', message: 'expected a mapping with a top-level "background:" key, got "just some text"' },
    ]);
  });
});

describe('precedence: flags > environment > file > defaults', () => {
  const file = 'background:\n  state_dir: /from/file\n  server:\n    host: 10.0.0.1\n    port: 9000\n  logging:\n    level: warn\n';
  const env = { AGENTIC_STATE_DIR: '/from/env', AGENTIC_HOST: '10.0.0.2', AGENTIC_PORT: '9100', AGENTIC_LOG_LEVEL: 'debug', PATH: '/bin' };
  const flags: ConfigOverrides = { stateDir: '/from/flag', host: '10.0.0.3', port: 9200, logLevel: 'trace' };
  const pick = (cfg: ReturnType<typeof parseConfig>) => [cfg.background.state_dir, cfg.background.server.host, cfg.background.server.port, cfg.background.logging.level];

  it('reads only the AGENTIC_* overrides from the environment, ignoring empty ones', () => {
    expect(overridesFromEnv(env)).toEqual({ stateDir: '/from/env', host: '10.0.0.2', port: '9100', logLevel: 'debug' });
    expect(overridesFromEnv({ AGENTIC_PORT: '', HOME: '/root' })).toEqual({});
  });

  it('uses defaults when nothing sets a key', () => {
    expect(pick(parseConfig({}))).toEqual([path.resolve('.agentic/background'), '127.0.0.1', 9464, 'info']);
  });

  it('lets the file override the defaults', () => {
    expect(pick(loadYaml(file))).toEqual(['/from/file', '10.0.0.1', 9000, 'warn']);
  });

  it('lets the environment override the file (a port string of digits becomes a number)', () => {
    expect(pick(loadYaml(file, overridesFromEnv(env)))).toEqual(['/from/env', '10.0.0.2', 9100, 'debug']);
  });

  it('lets flags override the environment', () => {
    expect(pick(loadYaml(file, { ...overridesFromEnv(env), ...flags }))).toEqual(['/from/flag', '10.0.0.3', 9200, 'trace']);
  });

  it('applies one flag and leaves the other keys to the environment and the file', () => {
    expect(pick(loadYaml(file, { ...overridesFromEnv({ AGENTIC_HOST: '10.0.0.2' }), port: '9300' }))).toEqual(['/from/file', '10.0.0.2', 9300, 'warn']);
  });

  it('applies overrides when the file has no such section, or an empty one', () => {
    expect(pick(loadYaml('background:\n  server:\n', { port: 1234, logLevel: 'error' }))).toEqual([path.resolve('.agentic/background'), '127.0.0.1', 1234, 'error']);
  });

  it('resolves a relative state_dir against the working directory', () => {
    expect(parseConfig({}, { stateDir: 'var/state' }).background.state_dir).toBe(path.resolve('var/state'));
  });

  it('reports an invalid override against the key it targets, and says where it came from', () => {
    const problems = problemsOf(() => loadYaml(file, overridesFromEnv({ AGENTIC_PORT: 'abc' })));
    expect(problems).toEqual([
      { path: 'background.server.port', message: 'expected a TCP port from 0 to 65535, got "abc" (set by --port or AGENTIC_PORT, which override the file)' },
    ]);
  });

  it('reports an invalid log level override together with the file\'s own problems', () => {
    const problems = problemsOf(() => loadYaml('background:\n  monitoring:\n    check_interval: thirty\n', { logLevel: 'verbose' }));
    expect(problems.map((p) => p.path).sort()).toEqual(['background.logging.level', 'background.monitoring.check_interval']);
    expect(problems.find((p) => p.path === 'background.logging.level')!.message).toBe(
      'expected one of "trace", "debug", "info", "warn", "error", "fatal", got "verbose" (set by --log-level or AGENTIC_LOG_LEVEL, which override the file)',
    );
  });

  it('does not blame the override for a bad value that came from the file', () => {
    const problems = problemsOf(() => loadYaml('background:\n  server:\n    port: 70000\n', { host: '0.0.0.0' }));
    expect(problems).toEqual([{ path: 'background.server.port', message: 'expected a TCP port from 0 to 65535, got 70000 (number)' }]);
  });
});

describe('docs/configuration.md', () => {
  const docs = readFileSync(DOCS, 'utf8');

  /** Every leaf key path in the schema, with `[]` for list items, and every section path. */
  function schemaPaths(): { leaves: string[]; sections: string[] } {
    const leaves: string[] = [];
    const sections: string[] = [];
    const show = (p: PropertyKey[]) => p.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[]` : acc ? `${acc}.${String(k)}` : String(k)), '');
    const walk = (p: PropertyKey[]): void => {
      const def = schemaAt(configSchema, p)?._zod?.def;
      if (def?.type === 'object') {
        sections.push(show(p));
        for (const k of Object.keys(def.shape)) walk([...p, k]);
      } else if (def?.type === 'array' && schemaAt(configSchema, [...p, 0])?._zod?.def?.type === 'object') {
        walk([...p, 0]);
      } else leaves.push(show(p));
    };
    walk(['background']);
    return { leaves, sections };
  }

  /** Rows of the reference tables: full key path → default cell. */
  function documentedKeys(): { rows: Map<string, string>; headings: string[] } {
    const rows = new Map<string, string>();
    const headings: string[] = [];
    const ref = docs.slice(docs.indexOf('\n## Reference'), docs.indexOf('\n## A full example'));
    let section: string | undefined;
    for (const line of ref.split('\n')) {
      const h = /^### `([^`]+)`/.exec(line);
      if (h) {
        section = h[1]!;
        headings.push(section);
        continue;
      }
      const row = /^\| `([^`]+)` \|[^|]*\| ([^|]*) \|/.exec(line);
      if (row && section) rows.set(`${section}.${row[1]}`, row[2]!.trim());
    }
    return { rows, headings };
  }

  it('documents every key in the schema, and no key that does not exist', () => {
    const { leaves, sections } = schemaPaths();
    const { rows, headings } = documentedKeys();
    expect([...rows.keys()].sort()).toEqual([...leaves].sort());
    expect([...headings].sort()).toEqual([...sections].sort());
  });

  it('shows the real default of every key', () => {
    const cfg = parseConfig({
      background: {
        server: { metrics_auth: { username: 'u', password_file: 'p' } },
        monitoring: { alerts: { email: { smtp: {} } } },
        queue: { postgres: { url_env: 'AGENTIC_QUEUE_URL' } },
        agents: [{ name: 'a', command: ['x'], probe: { type: 'tcp', address: 'h:1' }, connectivity: [{ address: 'h:1' }] }],
      },
    });
    const valueAt = (key: string): unknown =>
      key.replace(/\[\]/g, '.0').split('.').reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], cfg);
    const SET_IN_SAMPLE = new Set(['background.agents[].probe.address', 'background.agents[].connectivity[].address', 'background.queue.postgres.url_env']);
    const { rows } = documentedKeys();
    let checked = 0;
    for (const [key, cell] of rows) {
      const literal = /^`(.*)`$/.exec(cell);
      if (literal) {
        const documented: unknown = parseYaml(literal[1]!);
        const expected = key === 'background.state_dir' ? path.resolve(String(documented)) : documented;
        expect(valueAt(key), `${key} is documented with default ${cell}`).toEqual(expected);
        checked++;
      } else if (cell === '—') {
        if (!SET_IN_SAMPLE.has(key)) expect(valueAt(key), `${key} is documented as unset by default`).toBeUndefined();
      } else {
        expect(['required', "the agent's name"], `${key} has an unexpected default cell ${cell}`).toContain(cell);
      }
    }
    expect(checked).toBeGreaterThan(60);
    expect(cfg.background.agents[0]!.role).toBe('a');
  });

  it('shows the seed block exactly as the fixture holds it', () => {
    expect(docs).toContain('```yaml\n' + seedText + '```');
  });

  it('has only YAML examples that load', () => {
    const blocks = [...docs.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    for (const block of blocks) expect(() => loadYaml(block)).not.toThrow();
  });

  it('names every environment variable that overridesFromEnv reads', () => {
    expect(Object.keys(ENV_OVERRIDES).sort()).toEqual(['AGENTIC_HOST', 'AGENTIC_LOG_LEVEL', 'AGENTIC_PORT', 'AGENTIC_STATE_DIR']);
    for (const name of ['AGENTIC_STATE_DIR', 'AGENTIC_HOST', 'AGENTIC_PORT', 'AGENTIC_LOG_LEVEL', '--state-dir', '--host', '--port', '--log-level', '--config']) expect(docs).toContain(`\`${name}`);
  });
});
