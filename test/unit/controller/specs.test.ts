import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { controllerSettings } from '../../../src/controller/controllerSettings.js';
import { instanceOf, RemoteSupervisors } from '../../../src/controller/RemoteSupervisors.js';
import { parseListen, parseMapSpec, parseSupervisorSpec } from '../../../src/controller/routeSpecs.js';

describe('background controller flags', () => {
  it('parses --listen host:port, IPv6 in brackets, and refuses anything else by name', () => {
    expect(parseListen('127.0.0.1:9465')).toEqual({ host: '127.0.0.1', port: 9465 });
    expect(parseListen('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseListen('9465')).toThrow(/Expected --listen to be host:port .* got `9465`/);
    expect(() => parseListen('h:70000')).toThrow(/--listen/);
  });

  it('parses --supervisor <url>=<token-file>, insisting the token file is readable', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'agentic-spec-')), 'api.token');
    writeFileSync(file, 'x'.repeat(32));
    expect(parseSupervisorSpec(`http://127.0.0.1:9464/=${file}`)).toEqual({ url: 'http://127.0.0.1:9464', tokenFile: file });
    expect(() => parseSupervisorSpec(`http://127.0.0.1:9464=${file}.missing`)).toThrow(/cannot read the token file/);
    expect(() => parseSupervisorSpec('127.0.0.1:9464')).toThrow(/Expected --supervisor to be <url>=<token-file>/);
  });

  it('parses --map <instance>=<url> and refuses a map to a supervisor that was not given', () => {
    expect(parseMapSpec('build-01:9464=http://10.0.0.5:9464')).toEqual(['build-01:9464', 'http://10.0.0.5:9464']);
    expect(() => parseMapSpec('=http://x:1')).toThrow(/--map/);
    expect(() => parseMapSpec('a=ftp://x')).toThrow(/http\(s\) URL/);
    expect(() => new RemoteSupervisors({ supervisors: [{ url: 'http://10.0.0.5:9464', tokenFile: 'f' }], instanceMap: new Map([['b:1', 'http://10.0.0.6:9464']]) })).toThrow(/not one of the --supervisor URLs \(http:\/\/10\.0\.0\.5:9464\)/);
  });

  it('derives the instance label of a supervisor URL as Prometheus writes it', () => {
    expect(instanceOf('http://127.0.0.1:9464')).toBe('127.0.0.1:9464');
    expect(instanceOf('https://sup.example')).toBe('sup.example:443');
    expect(instanceOf('http://[::1]:9464')).toBe('[::1]:9464');
  });

  it('takes rate settings from flags over environment over defaults, naming a bad one', () => {
    expect(controllerSettings({}, {})).toEqual({ maxRestartsPerMinute: 6, targetCooldownSeconds: 300, instances: [] });
    const env = { AGENTIC_CONTROLLER_MAX_RESTARTS_PER_MINUTE: '20', AGENTIC_CONTROLLER_COOLDOWN_SECONDS: '60' };
    expect(controllerSettings({}, env)).toEqual({ maxRestartsPerMinute: 20, targetCooldownSeconds: 60, instances: [] });
    expect(controllerSettings({ cooldown: '0' }, env)).toEqual({ maxRestartsPerMinute: 20, targetCooldownSeconds: 0, instances: [] });
    expect(() => controllerSettings({ maxRestartsPerMinute: '0.5' }, {})).toThrow(/Expected --max-restarts-per-minute to be a number of at least 1, got `0.5`/);
    expect(() => controllerSettings({}, { AGENTIC_CONTROLLER_COOLDOWN_SECONDS: 'soon' })).toThrow(/AGENTIC_CONTROLLER_COOLDOWN_SECONDS/);
    expect(controllerSettings({}, { AGENTIC_CONTROLLER_INSTANCES: 'sup-a:9464, [::1]:9464' }).instances).toEqual(['sup-a:9464', '[::1]:9464']);
    expect(() => controllerSettings({}, { AGENTIC_CONTROLLER_INSTANCES: 'sup-a' })).toThrow(/Expected AGENTIC_CONTROLLER_INSTANCES to be a comma-separated list of host:port, got `sup-a`/);
  });
});
