import { describe, expect, it } from 'vitest';
import { fit, paint, stripAnsi, truncate, width } from '../../../src/cli/monitor/ansi.js';
import { renderPlain } from '../../../src/cli/monitor/plain.js';
import { NOW, snapshot } from './fixtures.js';

describe('the plain table (output is not a terminal)', () => {
  it('prints the header figures, a table row per replica and recent events, with no escape codes', () => {
    const out = renderPlain(snapshot({ events: [{ at: NOW - 1000, kind: 'restart', agent: 'qaa-1', text: 'qaa-1 restarted (crash), pid 9', tone: 'warn' }] }), NOW);
    expect(out).not.toContain('\u001b');
    expect(out).not.toMatch(/[┌│└]/);
    expect(out).toContain('System Status: ● Degraded');
    expect(out).toContain('Active Agents: 5/5 (replicas 4/5, slots 0/2 busy)');
    expect(out).toContain('Queue Depth: 12 tasks (2 in progress)');
    expect(out).toContain('Processing Rate: 3.2 tasks/min');
    expect(out).toMatch(/^AGENT\s+STATUS\s+CPU\s+RAM\s+RESTARTS\s+UPTIME\s+TASK$/m);
    expect(out).toMatch(/^qaa-1\s+restarting in 4s/m);
    expect(out).toContain('  10:41:59 qaa-1 restarted (crash), pid 9');
    for (const line of out.split('\n')) expect(line).toBe(line.trimEnd());
  });

  it('says reconnecting… while the supervisor is away', () => {
    expect(renderPlain(snapshot({ connected: false, okAt: NOW - 5000 }), NOW)).toContain('System Status: ○ reconnecting…   (last data 10:41:55)');
  });
});

describe('ANSI-aware text', () => {
  it('measures and cuts text without counting colour codes', () => {
    const red = paint(true).tone('circuit open until 10:42:07', 'bad');
    expect(width(red)).toBe(27);
    const cut = truncate(red, 10);
    expect(stripAnsi(cut)).toBe('circuit o…');
    expect(cut.endsWith('\u001b[0m')).toBe(true); // the colour still closes
    expect(fit('ab', 5, 'right')).toBe('   ab');
    expect(fit('abcdef', 3)).toBe('ab…');
  });
});
