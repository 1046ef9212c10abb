import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ConfigError } from '../errors.js';

/** What a key of the file may hold; the value itself is validated with the flags, by resolve*Config. */
export type FileValueType = 'string' | 'number' | 'duration' | 'boolean' | 'array';

/** The keys a command reads from its file (its flag names) and the type each one takes. */
export type FileSchema = Readonly<Record<string, FileValueType>>;

/** The JSON/YAML types each kind accepts: the validators read numbers and strings alike. */
const ACCEPTS: Record<FileValueType, readonly string[]> = {
  string: ['string'],
  number: ['number', 'string'],
  duration: ['number', 'string'],
  boolean: ['boolean'],
  array: ['string', 'string list'],
};

const EXPECTED: Record<FileValueType, string> = {
  string: 'a string',
  number: 'a number',
  duration: 'a duration (a number of seconds, or a string such as 500ms, 30s, 5m)',
  boolean: 'true or false',
  array: 'a string or a list of strings',
};

/**
 * Read a `--config` file (YAML, hence JSON too): a mapping from flag names to values. Unknown
 * keys, a value of the wrong type, an unreadable or unparsable file each throw one ConfigError
 * naming the file (and the key). No value from the file is ever quoted: it may be the token.
 */
export function readConfigFile(
  path: string,
  schema: FileSchema,
  lists: Readonly<Record<string, FileSchema>> = {},
): Record<string, unknown> {
  const where = `config file ${path}`;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`${where}: cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
  // Loaded here, not at start-up: a relay run without --config never pays yaml's ~3 MiB. Required
  // (not imported) because yargs calls this parser synchronously.
  const { parse, YAMLParseError } = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  let data: unknown;
  try {
    data = parse(text, { logLevel: 'error' });
  } catch (error) {
    if (!(error instanceof YAMLParseError)) throw error;
    // The first line only: the rest quotes the file around the error, which may be the token.
    const at = error.linePos?.[0];
    const firstLine = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(
      `${where}: not valid YAML or JSON${at ? ` at line ${at.line}, column ${at.col}` : ''}: ${firstLine}`,
    );
  }
  // An empty file (or only comments) sets nothing.
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`${where}: expected a mapping of settings (key: value), got ${typeName(data)}`);
  }
  const values = data as Record<string, unknown>;
  for (const [key, value] of Object.entries(values)) {
    const itemSchema = lists[key];
    if (itemSchema) checkList(where, key, value, itemSchema);
    else checkKeys(where, { [key]: value }, schema, Object.keys(lists));
  }
  return values;
}

/** A list of mappings (the cameras): each item checked against its own schema. */
function checkList(where: string, key: string, value: unknown, schema: FileSchema): void {
  if (!Array.isArray(value)) {
    throw new ConfigError(`${where}: key "${key}" must be a list of mappings, not ${typeName(value)}`);
  }
  value.forEach((item: unknown, index) => {
    const at = `${where}: ${key}[${index}]`;
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new ConfigError(`${at} must be a mapping (key: value), not ${typeName(item)}`);
    }
    checkKeys(at, item as Record<string, unknown>, schema);
  });
}

function checkKeys(
  where: string,
  values: Readonly<Record<string, unknown>>,
  schema: FileSchema,
  alsoKnown: readonly string[] = [],
): void {
  for (const [key, value] of Object.entries(values)) {
    const type = schema[key];
    if (type === undefined)
      throw new ConfigError(`${where}: unknown key "${key}"${suggest(key, schema, alsoKnown)}`);
    if (!ACCEPTS[type].includes(typeName(value, 'short'))) {
      // YAML reads 0123 or 1.10 as numbers: only quotes keep a string as written.
      const quote = type === 'string' && typeof value === 'number' ? ' (put it in quotes)' : '';
      throw new ConfigError(
        `${where}: key "${key}" must be ${EXPECTED[type]}, not ${typeName(value)}${quote}`,
      );
    }
  }
}

/** A kind of value, never the value itself. */
function typeName(value: unknown, form: 'short' | 'long' = 'long'): string {
  if (value === null) return form === 'short' ? 'null' : 'empty (null)';
  if (Array.isArray(value)) {
    if (form === 'short' && value.every((item) => typeof item === 'string')) return 'string list';
    return form === 'short' ? 'list' : 'a list';
  }
  const type = typeof value;
  if (form === 'short') return type;
  return type === 'object' ? 'a mapping' : `a ${type}`;
}

/** `segmentDuration`, `segment_duration` → ` (did you mean "segment-duration"?)` */
function suggest(key: string, schema: FileSchema, alsoKnown: readonly string[] = []): string {
  const squash = (name: string) => name.toLowerCase().replace(/[-_]/g, '');
  const match = [...Object.keys(schema), ...alsoKnown].find((known) => squash(known) === squash(key));
  return match ? ` (did you mean "${match}"?)` : '';
}
