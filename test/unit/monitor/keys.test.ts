import { describe, expect, it } from 'vitest';
import type { ViewState } from '../../../src/cli/monitor/frame.js';
import { parseKeys } from '../../../src/cli/monitor/keys.js';
import { applyKey } from '../../../src/cli/monitor/viewKeys.js';

const names = ['saa', 'qaa-0', 'qaa-1', 'sma'];
const start: ViewState = { selected: 0, pane: 'events', logLines: [] };

function press(keys: string, view = start) {
  let v = view;
  const actions = [];
  for (const k of parseKeys(keys)) {
    const r = applyKey(v, k, names);
    v = r.view;
    actions.push(r.action);
  }
  return { view: v, actions };
}

describe('parseKeys', () => {
  it('splits one read holding several keys, arrows included', () => {
    expect(parseKeys('\u001b[B\u001b[Bq')).toEqual(['down', 'down', 'q']);
    expect(parseKeys('\u001bOA\r')).toEqual(['up', 'enter']);
  });

  it('reads a lone ESC as Escape and skips unknown sequences whole', () => {
    expect(parseKeys('\u001b')).toEqual(['escape']);
    expect(parseKeys('\u001b[15~l')).toEqual(['other', 'l']);
    expect(parseKeys('\u0003')).toEqual(['ctrl-c']);
  });
});

describe('key bindings', () => {
  it('moves the selection with arrows and stops at both ends', () => {
    expect(press('\u001b[B\u001b[B').view.selected).toBe(2);
    expect(press('\u001b[B\u001b[B\u001b[B\u001b[B\u001b[B').view.selected).toBe(3);
    expect(press('\u001b[A').view.selected).toBe(0);
  });

  it('restarts only after r then y, naming the selected replica', () => {
    const { view, actions } = press('\u001b[B\u001b[Bry');
    expect(actions.at(-1)).toEqual({ kind: 'restart', name: 'qaa-1' });
    expect(view.confirm).toBeUndefined();
  });

  it('cancels the restart on any key other than y', () => {
    const { view, actions } = press('rn');
    expect(actions.every((a) => a.kind === 'none')).toBe(true);
    expect(view.message?.text).toBe('Restart of saa cancelled');
    expect(press('rq').actions.at(-1)).toEqual({ kind: 'none' }); // q answers the question, it does not quit
  });

  it('opens details on enter and logs on l, and goes back with esc', () => {
    expect(press('\r').view.pane).toBe('detail');
    expect(press('\r\r').view.pane).toBe('events');
    expect(press('l').view.pane).toBe('logs');
    expect(press('l\u001b').view.pane).toBe('events');
  });

  it('quits on q, and on Ctrl-C even with a question open', () => {
    expect(press('q').actions).toEqual([{ kind: 'quit' }]);
    expect(press('r\u0003').actions.at(-1)).toEqual({ kind: 'quit' });
  });
});
