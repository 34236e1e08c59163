import type { ViewState } from './frame.js';
import type { Key } from './keys.js';

/** What a key asks the app to do besides changing the view. */
export type KeyAction = { kind: 'none' } | { kind: 'quit' } | { kind: 'restart'; name: string };

const PAGE = 5;

/**
 * The monitor's key bindings as a pure function: the next view and an action.
 * `names` are the row labels (agent or replica id) in display order.
 *  - q / Ctrl-C quit (Ctrl-C even while a question is open);
 *  - ↑↓ (or k/j), PgUp/PgDn, Home/End select a row;
 *  - enter toggles the details pane, l the logs pane, esc/backspace go back to events;
 *  - r asks to restart the selected row; only y confirms, any other key cancels.
 */
export function applyKey(view: ViewState, key: Key, names: readonly string[]): { view: ViewState; action: KeyAction } {
  const none = { kind: 'none' } as const;
  if (key === 'ctrl-c') return { view, action: { kind: 'quit' } };
  if (view.confirm) {
    const name = view.confirm;
    if (key === 'y') return { view: { ...view, confirm: undefined }, action: { kind: 'restart', name } };
    return { view: { ...view, confirm: undefined, message: { text: `Restart of ${name} cancelled`, tone: 'dim' } }, action: none };
  }
  const last = Math.max(0, names.length - 1);
  const select = (i: number) => ({ view: { ...view, selected: Math.min(Math.max(0, i), last), message: undefined }, action: none });
  switch (key) {
    case 'q': return { view, action: { kind: 'quit' } };
    case 'up': return select(view.selected - 1);
    case 'down': return select(view.selected + 1);
    case 'pageup': return select(view.selected - PAGE);
    case 'pagedown': return select(view.selected + PAGE);
    case 'home': return select(0);
    case 'end': return select(last);
    case 'enter': return { view: { ...view, pane: view.pane === 'detail' ? 'events' : 'detail' }, action: none };
    case 'l': return { view: { ...view, pane: view.pane === 'logs' ? 'events' : 'logs' }, action: none };
    case 'escape':
    case 'backspace': return { view: { ...view, pane: 'events' }, action: none };
    case 'r': {
      const name = names[Math.min(view.selected, last)];
      return name ? { view: { ...view, confirm: name, message: undefined }, action: none } : { view, action: none };
    }
    default: return { view, action: none };
  }
}
