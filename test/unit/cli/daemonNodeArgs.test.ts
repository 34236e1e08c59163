import { describe, expect, it } from 'vitest';
import { DAEMON_V8_OPTIONS, daemonNodeArgs } from '../../../src/cli/daemonNodeArgs.js';

describe('daemonNodeArgs', () => {
  it('starts the daemon with a 2 MB young generation by default', () => {
    expect(DAEMON_V8_OPTIONS).toContain('--max-semi-space-size=2');
    expect(daemonNodeArgs({}, [])).toEqual([...DAEMON_V8_OPTIONS]);
  });

  it("leaves the option out when the operator gives it, in NODE_OPTIONS or to node, in either spelling", () => {
    expect(daemonNodeArgs({ NODE_OPTIONS: '--max-old-space-size=512 --max-semi-space-size=8' }, [])).toEqual([]);
    expect(daemonNodeArgs({}, ['--max_semi_space_size=16'])).toEqual([]);
    expect(daemonNodeArgs({ NODE_OPTIONS: '--max-old-space-size=512' }, ['--enable-source-maps'])).toEqual(['--max-semi-space-size=2']);
  });
});
