/**
 * `npm run schemas`: writes protocol/schema/*.json from the zod schemas
 * (src/protocol/jsonSchemas.ts) and removes schema files no message has any more.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { protocolSchemaFiles } from '../src/protocol/jsonSchemas.js';

const dir = join(import.meta.dirname, '..', 'protocol', 'schema');
mkdirSync(dir, { recursive: true });
const files = protocolSchemaFiles();
for (const old of readdirSync(dir)) if (old.endsWith('.json') && !(old in files)) rmSync(join(dir, old));
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
console.log(`wrote ${Object.keys(files).length} schemas to protocol/schema/`);
