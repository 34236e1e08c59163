import { describe, expect, it } from 'vitest';
import { paint, stripAnsi, width } from '../../../src/cli/monitor/ansi.js';
import { renderFrame, type ViewState } from '../../../src/cli/monitor/frame.js';
import { agent, NOW, seedFleet, snapshot, status } from './fixtures.js';

const view = (over: Partial<ViewState> = {}): ViewState => ({ selected: 0, pane: 'events', logLines: [], ...over });
const plain = paint(false);
const text = (lines: string[]) => lines.map(stripAnsi).join('\n');

describe('renderFrame', () => {
  it.each([160, 100, 80, 60, 40])('fills exactly %i columns and the terminal height', (cols) => {
    const lines = renderFrame(snapshot(), view(), { cols, rows: 30 }, paint(true), NOW);
    expect(lines).toHaveLength(30);
    for (const l of lines) expect(width(l)).toBe(cols);
  });

  it('shows the seed mock header: status, active agents up/configured, queue depth, processing rate', () => {
    const out = text(renderFrame(snapshot(), view(), { cols: 100, rows: 30 }, plain, NOW));
    expect(out).toContain('AgenticScrum Background Monitor');
    expect(out).toMatch(/System Status: ● Degraded/); // qaa-1 is restarting
    expect(out).toContain('Active Agents: 5/5 (replicas 4/5, slots 0/2 busy)');
    expect(out).toContain('Queue Depth: 12 tasks (2 in progress)');
    expect(out).toContain('Processing Rate: 3.2 tasks/min');
  });

  it('shows a row per replica with status, CPU, RAM, restarts, uptime and task at 100 columns', () => {
    const out = text(renderFrame(snapshot(), view(), { cols: 100, rows: 30 }, plain, NOW));
    expect(out).toMatch(/AGENT\s+STATUS\s+CPU\s+RAM\s+RESTARTS\s+UPTIME\s+TASK/);
    expect(out).toMatch(/saa-0\s+busy\s+15%\s+234MB\s+0\s+2m05s\s+STORY_318 50% scanning/);
    expect(out).toMatch(/qaa-1\s+restarting in 4s\s+-\s+-\s+2/);
    expect(out).toMatch(/deva_ts\s+idle/);
  });

  it('drops UPTIME and RESTARTS before TASK, and keeps AGENT and STATUS at 40 columns', () => {
    const at60 = text(renderFrame(snapshot(), view(), { cols: 60, rows: 30 }, plain, NOW));
    expect(at60).not.toContain('UPTIME');
    expect(at60).not.toContain('RESTARTS');
    expect(at60).toContain('TASK');
    const at40 = text(renderFrame(snapshot(), view(), { cols: 40, rows: 30 }, plain, NOW));
    expect(at40).not.toContain('TASK');
    expect(at40).toMatch(/qaa-1\s+restarting in 4s/);
  });

  it('says reconnecting… and keeps the last figures while the supervisor is unreachable', () => {
    const out = text(renderFrame(snapshot({ connected: false, okAt: new Date(2026, 2, 14, 10, 41, 55).getTime(), error: 'ECONNREFUSED' }), view(), { cols: 100, rows: 30 }, plain, NOW));
    expect(out).toContain('System Status: ○ reconnecting…');
    expect(out).toContain('last data 10:41:55');
    expect(out).toContain('Active Agents: 5/5 (replicas 4/5, slots 0/2 busy)');
  });

  it('marks the selected row and scrolls to keep it in view on a short terminal', () => {
    const many = status(Array.from({ length: 20 }, (_, i) => agent({ agent: `a${String(i).padStart(2, '0')}` })));
    const lines = renderFrame(snapshot({ status: many }), view({ selected: 17 }), { cols: 80, rows: 20 }, plain, NOW);
    const out = text(lines);
    expect(lines).toHaveLength(20);
    expect(out).toMatch(/▸ a17/);
    expect(out).toMatch(/agents \d+-18 of 20/);
    expect(out).not.toContain('a00 ');
  });

  it('asks for confirmation in the footer before a restart', () => {
    const out = text(renderFrame(snapshot(), view({ selected: 3, confirm: 'qaa-1' }), { cols: 80, rows: 30 }, plain, NOW));
    expect(out).toContain('Restart qaa-1? y = yes, n = no');
    expect(out).toMatch(/▸ qaa-1/);
  });

  it('shows the selected agent details and its last log lines on enter', () => {
    const out = text(renderFrame(snapshot(), view({ selected: 3, pane: 'detail', logLines: ['10:41:59.000 INFO  qaa-1  welcomed'] }), { cols: 100, rows: 40 }, plain, NOW));
    expect(out).toContain('Details: qaa-1');
    expect(out).toContain('restarts 2 (crash 2)');
    expect(out).toContain('last exit 10:41:59: crash: killed by SIGKILL');
    expect(out).toContain('welcomed');
  });

  it('lists recent events newest first', () => {
    const events = [
      { at: NOW - 1000, kind: 'restart' as const, agent: 'qaa-1', text: 'qaa-1 exited (crash: killed by SIGKILL); restarting at 10:42:03', tone: 'warn' as const },
      { at: NOW - 60_000, kind: 'escalation' as const, agent: 'deva_ts', text: 'deva_ts circuit open until 10:45:00', tone: 'bad' as const },
    ];
    const out = text(renderFrame(snapshot({ events }), view(), { cols: 100, rows: 30 }, plain, NOW));
    expect(out.indexOf('10:41:59 qaa-1 exited')).toBeGreaterThan(0);
    expect(out.indexOf('10:41:00 deva_ts circuit open')).toBeGreaterThan(out.indexOf('10:41:59 qaa-1'));
  });

  it('colours the verdict only when colour is on', () => {
    const st = status(seedFleet().filter((a) => a.state !== 'backoff'));
    const coloured = renderFrame(snapshot({ status: st }), view(), { cols: 80, rows: 30 }, paint(true), NOW).join('\n');
    expect(coloured).toContain('\u001b[32m● Healthy\u001b[0m');
    expect(renderFrame(snapshot({ status: st }), view(), { cols: 80, rows: 30 }, plain, NOW).join('\n')).not.toContain('\u001b[');
  });
});
