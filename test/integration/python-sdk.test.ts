import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

describe('Python SDK (sdk/python/agentic_agent.py)', () => {
  it('passes its unittest suite against real agent processes', () => {
    // spawnSync rather than execFileSync: unittest reports on stderr, which we assert on.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AGENTIC_')));
    const run = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', 'sdk/python', '-p', 'test_*.py'], {
      cwd: repoRoot,
      env,
      encoding: 'utf8',
      timeout: 110_000,
    });
    expect(run.error, 'python3 must be on PATH').toBeUndefined();
    const report = `${run.stdout}\n${run.stderr}`;
    expect(run.status, report).toBe(0);
    const ran = /Ran (\d+) tests? in/.exec(run.stderr);
    expect(Number(ran?.[1] ?? 0), report).toBeGreaterThanOrEqual(15);
    expect(run.stderr, report).toMatch(/\nOK\s*$/);
  }, 120_000);

  it('type-checks with mypy --strict (Debian python3-mypy; .ci/run installs it)', () => {
    // Debian's mypy is a module of the system python3, which a pyenv python3 on PATH may hide.
    const candidates: [string, string[]][] = [['mypy', []], ['/usr/bin/python3', ['-m', 'mypy']], ['python3', ['-m', 'mypy']]];
    const found = candidates.find(([cmd, pre]) => spawnSync(cmd, [...pre, '--version'], { encoding: 'utf8' }).status === 0);
    expect(found, 'mypy must be installed (apt-get install python3-mypy)').toBeDefined();
    const [cmd, pre] = found as [string, string[]];
    const run = spawnSync(cmd, [...pre, '--strict', '--no-incremental', 'agentic_agent.py'], { cwd: `${repoRoot}sdk/python`, encoding: 'utf8', timeout: 110_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toMatch(/Success: no issues found in 1 source file/);
  }, 120_000);
});
