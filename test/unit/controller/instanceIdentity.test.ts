import { hostname, networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { InstanceIdentity, splitInstance } from '../../../src/controller/instanceIdentity.js';
import { InProcessPort } from '../../../src/controller/InProcessPort.js';

const PORT = 9464;
/** The fields of Supervisor that InProcessPort reads: one running replica qaa-0, no breaker. */
const supervisorOfOne = { stopping: false, policy: {}, perTask: [], replicas: [{ config: { name: 'qaa' }, slot: 'qaa-0', state: { kind: 'running' } }] };

describe('InstanceIdentity: is an alert about this supervisor?', () => {
  it('splits host:port and [v6]:port, and rejects other shapes', () => {
    expect(splitInstance('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(splitInstance('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(splitInstance('Sup-A.example:80')).toEqual({ host: 'sup-a.example', port: 80 });
    for (const bad of ['sup', 'sup:', ':9464', 'sup:0', 'sup:70000', '::1:9464']) expect(splitInstance(bad), bad).toBeUndefined();
  });

  it('accepts loopback names, this host name and this machine\'s own addresses on the listening port', async () => {
    const id = new InstanceIdentity(() => PORT);
    for (const i of ['127.0.0.1:9464', 'localhost:9464', '[::1]:9464', `${hostname()}:9464`]) expect(await id.isMine(i), i).toBe(true);
    const own = Object.values(networkInterfaces()).flat().find((x) => x && x.family === 'IPv4' && !x.internal);
    if (own) expect(await id.isMine(`${own.address}:9464`)).toBe(true);
  });

  it('refuses another port, an address of another machine and a name that does not resolve', async () => {
    const id = new InstanceIdentity(() => PORT);
    expect(await id.isMine('127.0.0.1:9465')).toBe(false);
    expect(await id.isMine('192.0.2.10:9464')).toBe(false); // TEST-NET-1, never local
    expect(await id.isMine('no-such-host.invalid:9464')).toBe(false);
  });

  it('resolves a name once per minute (injected resolver and clock)', async () => {
    let now = 0;
    let lookups = 0;
    const id = new InstanceIdentity(() => PORT, [], () => now, async () => { lookups++; return ['127.0.0.1']; });
    expect(await id.isMine('sup.internal:9464')).toBe(true);
    now = 59_000;
    expect(await id.isMine('sup.internal:9464')).toBe(true);
    expect(lookups).toBe(1);
    now = 61_000;
    await id.isMine('sup.internal:9464');
    expect(lookups).toBe(2);
  });

  it('uses only the explicit list when one is given (NAT, port mappings)', async () => {
    const id = new InstanceIdentity(() => PORT, ['sup-a.example:19464']);
    expect(await id.isMine('sup-a.example:19464')).toBe(true);
    expect(await id.isMine('127.0.0.1:9464')).toBe(false);
    expect(id.describe()).toBe('sup-a.example:19464');
  });

  it('makes the in-process controller skip another supervisor\'s alert, naming the instance', async () => {
    const port = new InProcessPort(supervisorOfOne as never, new InstanceIdentity(() => PORT));
    const other = await port.inspect({ agent: 'qaa', replica: '0', instance: '192.0.2.10:9464' });
    expect(other).toMatchObject({ kind: 'unknown' });
    expect((other as { reason: string }).reason).toMatch(/instance 192\.0\.2\.10:9464 is not this supervisor/);
    expect(await port.inspect({ agent: 'qaa', replica: '0', instance: '127.0.0.1:9464' })).toMatchObject({ kind: 'ok', slots: ['qaa-0'] });
    expect(await port.inspect({ agent: 'qaa', replica: '0' })).toMatchObject({ kind: 'ok', slots: ['qaa-0'] });
  });
});
