import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/loadConfig.js';
import { diffConfig, diffPaths, LIVE_AGENT_KEYS, notReloadableReason, probeCheckEvery } from '../../../src/supervisor/ConfigReload.js';

type Agent = Record<string, unknown>;
const cfg = (agents: Agent[], rest: Record<string, unknown> = {}) => parseConfig({ background: { state_dir: '/tmp/reload-diff', ...rest, agents } });
const qaa: Agent = { name: 'qaa', command: ['node', 'qaa.js'], replicas: 2 };
const saa: Agent = { name: 'saa', command: ['node', 'saa.js'] };
const deva: Agent = { name: 'deva_ts', mode: 'per_task', command: ['claude', '-p', '{prompt}'], max_concurrent: 2 };

describe('diffPaths', () => {
  it('names each differing key of a mapping, and a changed list or scalar as one path', () => {
    expect(diffPaths({ a: 1, b: { c: 2, d: [1, 2] } }, { a: 1, b: { c: 3, d: [1, 2, 3] } })).toEqual(['b.c', 'b.d']);
    expect(diffPaths({ env: { A: '1' } }, { env: { A: '1', B: '2' } })).toEqual(['env.B']);
    expect(diffPaths({ probe: undefined }, { probe: { type: 'tcp' } })).toEqual(['probe']);
    expect(diffPaths([1, { x: 1 }], [1, { x: 1 }])).toEqual([]);
    expect(diffPaths(1, 2, 'background.server.port')).toEqual(['background.server.port']);
  });
});

describe('diffConfig', () => {
  it('sorts agents into added, removed, changed (with the keys) and unchanged, matched by name', () => {
    const d = diffConfig(cfg([qaa, saa, deva]), cfg([{ ...qaa, env: { LEVEL: 'debug' } }, { name: 'poa', command: ['node', 'poa.js'] }, deva]));
    expect(d.notReloadable).toEqual([]);
    expect(d.added.map((a) => a.name)).toEqual(['poa']);
    expect(d.removed.map((a) => a.name)).toEqual(['saa']);
    expect(d.changed).toMatchObject([{ name: 'qaa', keys: ['env.LEVEL'], restart: true }]);
    expect(d.unchanged).toEqual(['deva_ts']);
  });

  it('compares effective configs: a default spelled out, a duration written another way or agents reordered change nothing', () => {
    const before = cfg([qaa, deva]);
    const after = cfg([{ ...deva, restart: 'always' }, { ...qaa, stop_timeout: '10s', role: 'qaa' }]);
    expect(diffConfig(before, after)).toMatchObject({ added: [], removed: [], changed: [], unchanged: ['deva_ts', 'qaa'], notReloadable: [] });
  });

  it('does not restart an agent when only replicas or max_concurrent changed', () => {
    expect([...LIVE_AGENT_KEYS].sort()).toEqual(['max_concurrent', 'replicas']);
    const d = diffConfig(cfg([qaa, deva]), cfg([{ ...qaa, replicas: 3 }, { ...deva, max_concurrent: 1 }]));
    expect(d.changed).toMatchObject([{ name: 'qaa', keys: ['replicas'], restart: false }, { name: 'deva_ts', keys: ['max_concurrent'], restart: false }]);
    const both = diffConfig(cfg([qaa]), cfg([{ ...qaa, replicas: 3, command: ['node', 'qaa2.js'] }]));
    expect(both.changed).toMatchObject([{ name: 'qaa', keys: ['command', 'replicas'], restart: true }]);
  });

  it('restarts an agent whose mode changed', () => {
    const d = diffConfig(cfg([saa]), cfg([{ ...saa, mode: 'per_task' }]));
    expect(d.changed).toMatchObject([{ name: 'saa', keys: ['mode'], restart: true }]);
  });

  it('lists every setting outside background.agents that differs, each with why it cannot change live', () => {
    const d = diffConfig(cfg([qaa]), cfg([qaa], { server: { port: 9999 }, monitoring: { check_interval: 5 }, state_dir: '/tmp/elsewhere' }));
    expect(d.notReloadable.map((n) => n.key)).toEqual(['background.monitoring.check_interval', 'background.server.port', 'background.state_dir']);
    expect(d.notReloadable[1]?.reason).toBe(notReloadableReason('background.server.port'));
    expect(d.notReloadable[1]?.reason).toMatch(/^background\.server\.port cannot change while the supervisor runs \(the server's socket.*\): restart the supervisor/);
    expect(d.notReloadable[2]?.reason).toMatch(/state directory holds this supervisor's lock/);
    expect(d.notReloadable[0]?.reason).toMatch(/a reload applies background\.agents only/);
  });

  it('refuses a probe on an added or changed agent that the running checks would run less often than its period', () => {
    const probe = (period: number) => ({ type: 'tcp', address: '127.0.0.1:1', period });
    const running = cfg([qaa, { ...saa, probe: probe(10) }], { monitoring: { check_interval: 30 } });
    expect(probeCheckEvery(running.background)).toBe(10);
    expect(probeCheckEvery(cfg([qaa], { monitoring: { check_interval: 30 } }).background)).toBe(30);
    expect(probeCheckEvery(cfg([qaa], { monitoring: { health_checks: { agent_response: { enabled: false } } } }).background)).toBeUndefined();
    const every = probeCheckEvery(running.background);
    const next = cfg([{ ...qaa, probe: probe(5) }, { ...saa, probe: probe(10) }, { name: 'poa', command: ['x'], probe: probe(2) }], { monitoring: { check_interval: 30 } });
    const d = diffConfig(running, next, { probeEvery: every });
    expect(d.notReloadable.map((n) => n.key)).toEqual(['background.agents[0].probe.period', 'background.agents[2].probe.period']);
    expect(d.notReloadable[0]?.reason).toMatch(/^background\.agents\[0\]\.probe\.period cannot be 5 s while the supervisor runs \(probes run with the agent_response check, every 10 s .*\): restart the supervisor .* or set a period of at least 10 s$/);
    // As often or less often than the checks run: applied.
    expect(diffConfig(running, cfg([{ ...qaa, probe: probe(10) }, { ...saa, probe: probe(10) }], { monitoring: { check_interval: 30 } }), { probeEvery: every }).notReloadable).toEqual([]);
  });
});
