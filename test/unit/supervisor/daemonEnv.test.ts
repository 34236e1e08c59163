import { describe, expect, it } from 'vitest';
import { DAEMON_ENV, DAEMON_ENV_ADDED, daemonEnv, withoutDaemonEnv } from '../../../src/supervisor/daemonEnv.js';

describe('the daemon environment', () => {
  it('starts the daemon with one malloc arena, and says it added it', () => {
    expect(DAEMON_ENV).toEqual({ MALLOC_ARENA_MAX: '1' });
    expect(daemonEnv({ PATH: '/bin' })).toEqual({ MALLOC_ARENA_MAX: '1', [DAEMON_ENV_ADDED]: 'MALLOC_ARENA_MAX' });
  });

  it("adds nothing the operator already set: theirs wins", () => {
    expect(daemonEnv({ MALLOC_ARENA_MAX: '4' })).toEqual({});
  });

  it('gives the agents the environment without what the launcher added for the daemon', () => {
    const daemon = { PATH: '/bin', HOME: '/home/a', ...daemonEnv({}) };
    expect(withoutDaemonEnv(daemon)).toEqual({ PATH: '/bin', HOME: '/home/a' });
  });

  it("passes on the operator's own value, and never drops a variable the marker names that is not the daemon's", () => {
    expect(withoutDaemonEnv({ PATH: '/bin', MALLOC_ARENA_MAX: '4' })).toEqual({ PATH: '/bin', MALLOC_ARENA_MAX: '4' });
    expect(withoutDaemonEnv({ PATH: '/bin', [DAEMON_ENV_ADDED]: 'PATH,HOME', HOME: '/h' })).toEqual({ PATH: '/bin', HOME: '/h' });
    expect(withoutDaemonEnv({ A: undefined, B: 'b' })).toEqual({ B: 'b' });
  });
});
