import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';

/** The published schema of `--json` lines, as operators get it (src/telemetry/events.schema.json). */
const schema: unknown = JSON.parse(
  readFileSync(new URL('../../src/telemetry/events.schema.json', import.meta.url), 'utf8'),
);
const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false }).compile(schema as object);

/** Why an NDJSON event breaks the schema, or undefined when it is valid. */
export function schemaViolation(event: unknown): string | undefined {
  if (validate(event)) return undefined;
  return `${JSON.stringify(event)}: ${(validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`).join('; ')}`;
}
