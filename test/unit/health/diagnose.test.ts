import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../src/health/diagnose.js';

const base = { idleCpuPercent: 1, protocol: true, unresponsive: false };

describe('diagnose', () => {
  it('names a SIGSTOPped process from its /proc state T, whatever else is true', () => {
    const d = diagnose({ ...base, procState: 'T', cpuPercent: 0, unresponsive: true, silentForMs: 5000 });
    expect(d.kind).toBe('stopped');
    expect(d.text).toBe('process state T (stopped, e.g. by SIGSTOP or a debugger) — it cannot run until it gets SIGCONT');
  });

  it('calls heartbeats with a busy CPU and no progress a livelock', () => {
    const d = diagnose({ ...base, procState: 'R', cpuPercent: 98.04 });
    expect(d).toEqual({ kind: 'livelock', text: 'process state R, CPU 98.0%, heartbeats still arrive — alive but stuck: looks like a livelock or an infinite loop' });
  });

  it('calls heartbeats with an idle CPU waiting', () => {
    const d = diagnose({ ...base, procState: 'S', cpuPercent: 0 });
    expect(d.kind).toBe('idle_wait');
    expect(d.text).toContain('process state S, CPU 0.0%, heartbeats still arrive — waiting idle: looks blocked waiting on I/O');
  });

  it('calls missing heartbeats and pongs a blocked event loop, busy or waiting by CPU', () => {
    const busy = diagnose({ ...base, procState: 'R', cpuPercent: 100, unresponsive: true, silentForMs: 4200 });
    expect(busy.kind).toBe('blocked_event_loop');
    expect(busy.text).toBe('no heartbeats or pongs for 4.2s; process state R, CPU 100.0% — its event loop is blocked by busy synchronous code (an infinite loop?)');
    const waiting = diagnose({ ...base, procState: 'S', cpuPercent: 0.2, unresponsive: true, silentForMs: 192_000 });
    expect(waiting.text).toBe('no heartbeats or pongs for 3m12s; process state S, CPU 0.2% — its event loop is blocked in a synchronous call that waits (I/O, a lock, a child process)');
    expect(diagnose({ ...base, procState: 'D', cpuPercent: 0, unresponsive: true }).text).toContain('uninterruptible I/O (disk, NFS)');
  });

  it('tells a plain command that sleeps (I/O) from one that spins', () => {
    expect(diagnose({ ...base, protocol: false, procState: 'S', cpuPercent: 0 })).toEqual({ kind: 'io_wait', text: 'process state S, CPU 0.0% — looks blocked waiting on I/O' });
    expect(diagnose({ ...base, protocol: false, procState: 'R', cpuPercent: 87 }).kind).toBe('busy');
  });

  it('says when the CPU is not sampled yet, and when the process is gone or a zombie', () => {
    expect(diagnose({ ...base, procState: 'S', cpuPercent: undefined, unresponsive: true }).text).toBe('no heartbeats or pongs; process state S, CPU not measured yet — its event loop is blocked');
    expect(diagnose({ ...base, procState: undefined, cpuPercent: 0 }).kind).toBe('gone');
    expect(diagnose({ ...base, procState: 'Z', cpuPercent: 0 }).kind).toBe('zombie');
  });
});
