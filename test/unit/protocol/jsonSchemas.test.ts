import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocolJsonSchemas, protocolSchemaFiles } from '../../../src/protocol/jsonSchemas.js';
import { agentMessage, supervisorMessageTypes } from '../../../src/protocol/messages.js';

const dir = join(import.meta.dirname, '..', '..', '..', 'protocol', 'schema');

describe('protocol JSON Schemas', () => {
  it('the committed protocol/schema/*.json are what `npm run schemas` generates now (run it after changing messages.ts)', () => {
    const want = protocolSchemaFiles();
    const have = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
    expect(have).toEqual(Object.keys(want).sort());
    for (const [name, text] of Object.entries(want)) expect(readFileSync(join(dir, name), 'utf8'), `${name} is stale: run npm run schemas`).toBe(text);
  });

  it('has one schema per message type of each direction, each requiring its type constant', () => {
    const schemas = protocolJsonSchemas();
    const agentTypes = agentMessage.options.map((o) => o.shape.type.value);
    for (const t of [...agentTypes, ...supervisorMessageTypes]) {
      const s = schemas[t] as { properties: { type: { const: string } }; required: string[] };
      expect(s.properties.type.const).toBe(t);
      expect(s.required).toContain('type');
    }
    expect((schemas['agent-message'] as { oneOf: unknown[] }).oneOf).toHaveLength(agentTypes.length);
  });

  it('answers the spec questions the same way as the zod schemas: ping id integer, duration_ms a number, retryable optional', () => {
    const s = protocolJsonSchemas() as Record<string, { properties: Record<string, { type?: string }>; required: string[] }>;
    expect(s.pong?.properties.id?.type).toBe('integer');
    expect(s.ping?.properties.id?.type).toBe('integer');
    expect(s['task.finished']?.properties.duration_ms?.type).toBe('number');
    expect(s['task.failed']?.required).not.toContain('retryable');
    expect(s['task.started']?.required).not.toContain('correlation_id');
  });
});
