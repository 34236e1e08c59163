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
});
