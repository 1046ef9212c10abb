import type { Argv, Options } from 'yargs';
import { type FileSchema, type FileValueType, isBlank, readConfigFile } from '../config/config-file.js';
import { camelKey } from '../config/parse.js';
import { ConfigError } from '../errors.js';

/**
 * A command's settings come from one table per command: its flags (yargs), its environment
 * variables (`--segment-duration` ↔ TRIO_SEGMENT_DURATION, yargs' `.env()`) and its config-file
 * keys (`segment-duration:`, yargs' `.config()`) all derive from it. yargs merges them with the
 * precedence flags > env > file > defaults; the values are validated afterwards, in one place,
 * by the command's resolve*Config.
 */
export const ENV_PREFIX = 'TRIO';

/** One setting: how --help shows it, and the type its config-file key must hold. */
export interface Setting {
  /**
   * `number` and `duration` reach the validator as typed (so a message quotes the operator's own
   * text) and --help still shows a number as `[number]`.
   */
  readonly type: FileValueType;
  readonly describe: string;
  readonly alias?: string;
  /** Shown in --help; the value itself is applied by the command's own defaults. */
  readonly default?: string | number;
}

/** "segmentDuration" → "segment-duration": flags are named after the config's keys. */
type Kebab<S extends string> = S extends `${infer H}${infer T}`
  ? `${H extends Lowercase<H> ? H : `-${Lowercase<H>}`}${Kebab<T>}`
  : S;

/** One setting per key of a command's flags type: a new setting cannot go undocumented. */
export type SettingsTable<Flags> = { readonly [K in keyof Flags & string as Kebab<K>]-?: Setting };

/** `segment-duration` → `TRIO_SEGMENT_DURATION` */
export function envName(flag: string): string {
  return `${ENV_PREFIX}_${flag.toUpperCase().replace(/-/g, '_')}`;
}

/** The flag's option for yargs. */
function yargsOption(setting: Setting): Options {
  const { type, describe, alias } = setting;
  const shown = setting.default === undefined ? {} : { defaultDescription: String(setting.default) };
  const base = { describe, ...(alias ? { alias } : {}), ...shown };
  switch (type) {
    case 'boolean':
      return { ...base, type: 'boolean' };
    case 'array':
      return { ...base, type: 'string', array: true };
    // Kept a string (yargs would turn "many" into NaN), listed as a number too for --help's `[number]`.
    case 'number':
      return { ...base, type: 'string', number: true };
    default:
      return { ...base, type: 'string' };
  }
}

export function fileSchema(table: Readonly<Record<string, Setting>>): FileSchema {
  return Object.fromEntries(Object.entries(table).map(([flag, setting]) => [flag, setting.type]));
}

/** Where a value came from, highest precedence first. */
type SettingOrigin = 'flag' | 'env' | 'file';
const RANK: Record<SettingOrigin, number> = { flag: 3, env: 2, file: 1 };

/**
 * What one parse read beyond the command line: the config file. Tells where the value yargs
 * settled on came from, so an error can name TRIO_FPS or the file rather than a flag never typed.
 */
export class SettingSources {
  #file: { path: string; values: Readonly<Record<string, unknown>> } | undefined;
  #fileError: unknown;
  /** The file's lists of mappings (the cameras), kept apart: they are no flags. */
  #lists: Record<string, readonly Readonly<Record<string, unknown>>[]> = {};

  /** The value of `flag` came from: the highest-precedence source that holds it. */
  sourceOf(flag: string, value: unknown): { kind: SettingOrigin; label: string } | undefined {
    if (value === undefined) return undefined;
    // yargs takes an env value only when the flag is absent, the file's only when both are.
    const text = String(Array.isArray(value) ? value.at(-1) : value);
    const name = envName(flag);
    const env = process.env[name];
    if (env !== undefined)
      return env === text ? { kind: 'env', label: name } : { kind: 'flag', label: `--${flag}` };
    const file = this.#file?.values[flag];
    if (file !== undefined && String(Array.isArray(file) ? file.at(-1) : file) === text) {
      return { kind: 'file', label: `"${flag}" in config file ${this.#file!.path}` };
    }
    return { kind: 'flag', label: `--${flag}` };
  }

  /** A ConfigError about a value from TRIO_* or the file gets that source named at its end. */
  explain(error: unknown, flags: object | undefined): unknown {
    if (!(error instanceof ConfigError) || !flags) return error;
    const values = flags as Readonly<Record<string, unknown>>;
    // Every validator starts its message with the flag it judged (STYLE habit 2).
    const flag = /^--([a-z][a-z0-9-]*)/.exec(error.message)?.[1];
    const source = flag ? this.sourceOf(flag, values[flag]) : undefined;
    if (!source || source.kind === 'flag') return error;
    return new ConfigError(`${error.message} (from ${source.label})`, { cause: error });
  }

  /**
   * Two flags for one setting (--token and --token-file): when both are set, the one from the
   * higher-precedence source wins. Both from the environment or both from the file is refused
   * here, both on the command line by the validator.
   */
  keepHigher<F extends object>(flags: F, a: string, b: string): F {
    const all = flags as Record<string, unknown>;
    if (all[a] === undefined || all[b] === undefined) return flags;
    const [first, second] = [this.sourceOf(a, all[a])!, this.sourceOf(b, all[b])!];
    if (first.kind === second.kind) {
      if (first.kind === 'flag') return flags;
      throw new ConfigError(`${first.label} and ${second.label} are both set: give only one`);
    }
    const loser = RANK[first.kind] > RANK[second.kind] ? b : a;
    const kept = { ...all };
    delete kept[loser];
    delete kept[camelKey(loser)];
    return kept as F;
  }

  /** The `.config()` parser: yargs resolves the path (--config FILE or TRIO_CONFIG) and merges the result. */
  fileReader(
    schema: FileSchema,
    lists: Readonly<Record<string, FileSchema>> = {},
  ): (path: string) => Record<string, unknown> {
    return (path) => {
      try {
        const values = { ...readConfigFile(path, schema, lists) };
        for (const key of Object.keys(lists)) {
          if (values[key] !== undefined)
            this.#lists[key] = values[key] as Readonly<Record<string, unknown>>[];
          delete values[key];
        }
        this.#file = { path, values };
        return values;
      } catch (error) {
        this.#fileError = error;
        throw error;
      }
    };
  }

  /** The config file read (--config FILE or TRIO_CONFIG), if any. */
  get filePath(): string | undefined {
    return this.#file?.path;
  }

  /** A list of mappings the config file held (`cameras:`), as read; undefined without one. */
  list(key: string): readonly Readonly<Record<string, unknown>>[] | undefined {
    return this.#lists[key];
  }

  /** yargs passes the reader's error on as a plain YError: this is the ConfigError itself. */
  get fileError(): unknown {
    return this.#fileError;
  }
}

const CONFIG_DESCRIBE = `read settings from a YAML or JSON file (keys: the flag names, e.g. segment-duration: 4); also ${envName('config')}`;

/**
 * Register a command's table: its flags, the config file when `sources` is given, and a check
 * of its TRIO_* variables. Call `.env(ENV_PREFIX)` once on the top-level parser.
 */
export function withSettings<Flags>(
  y: Argv,
  table: SettingsTable<Flags>,
  sources?: SettingSources,
  lists: Readonly<Record<string, FileSchema>> = {},
): Argv<Flags> {
  const settings = table as Readonly<Record<string, Setting>>;
  const options = Object.fromEntries(Object.entries(settings).map(([flag, s]) => [flag, yargsOption(s)]));
  let command = y
    .options(options)
    .middleware((argv) => checkEnv(argv, settings, sources !== undefined), true);
  if (sources)
    command = command.config('config', CONFIG_DESCRIBE, sources.fileReader(fileSchema(settings), lists));
  return command as unknown as Argv<Flags>;
}

const YARGS_KEYS = ['_', '$0', 'help', 'h', 'version', 'V'];

/**
 * yargs' `.env()` takes every TRIO_* variable as a setting, and strict mode would refuse one this
 * command lacks: another command's (TRIO_SOURCE for the ingest-server) or one read elsewhere
 * (TRIO_NO_BUNDLED_FFMPEG). Those are dropped. A boolean's variable must say true or false:
 * yargs would read anything else (TRIO_JSON=1) as false.
 */
function checkEnv(
  argv: Record<string, unknown>,
  table: Readonly<Record<string, Setting>>,
  file: boolean,
): void {
  const known = new Set(file ? [...YARGS_KEYS, 'config'] : YARGS_KEYS);
  for (const [flag, setting] of Object.entries(table)) {
    known.add(flag).add(camelKey(flag));
    if (setting.alias) known.add(setting.alias);
  }
  const fromEnv = new Set(
    Object.keys(process.env)
      .filter((name) => name.startsWith(`${ENV_PREFIX}_`))
      .map((name) => squash(name.slice(ENV_PREFIX.length + 1).split('__')[0]!)),
  );
  for (const key of Object.keys(argv)) {
    if (!known.has(key) && fromEnv.has(squash(key))) delete argv[key];
  }
  for (const [flag, setting] of Object.entries(table)) {
    const value = process.env[envName(flag)];
    if (setting.type === 'boolean' && value !== undefined && value !== 'true' && value !== 'false') {
      if (argv[flag] !== true) throw new ConfigError(`${envName(flag)}=${value}: expected true or false`);
    }
  }
  checkNotBlank(argv, Object.entries(table), file);
}

/**
 * An empty string value (`--spool-dir ""`, `TRIO_FFMPEG=`, a flag last with no value) is a
 * mistake, never a choice: an empty path is the working directory, `/` under systemd. Numbers
 * and durations are left to their validators, which quote `""`; the file's keys are checked as
 * it is read.
 */
function checkNotBlank(
  argv: Readonly<Record<string, unknown>>,
  settings: readonly [string, Setting][],
  file: boolean,
): void {
  const flags = settings.filter(([, s]) => s.type === 'string' || s.type === 'array').map(([flag]) => flag);
  for (const flag of file ? ['config', ...flags] : flags) {
    if (!isBlank(argv[flag])) continue;
    const name = envName(flag);
    const env = process.env[name];
    // As in sourceOf: a variable as empty as the value is where the value came from.
    if (env !== undefined && isBlank(env)) {
      throw new ConfigError(`${name} is set but empty: give it a value, or unset it`);
    }
    throw new ConfigError(`--${flag} is empty: give it a value, or leave the flag out`);
  }
}

function squash(name: string): string {
  return name.toLowerCase().replace(/[-_]/g, '');
}

/** The flags (and their one-letter aliases) that take a value, in any of `tables`; and --config. */
export function valueFlags(...tables: Readonly<Record<string, Setting>>[]): ReadonlySet<string> {
  const names = new Set(['--config']);
  for (const table of tables) {
    for (const [flag, setting] of Object.entries(table)) {
      if (setting.type === 'boolean') continue;
      names.add(`--${flag}`);
      if (setting.alias) names.add(`-${setting.alias}`);
    }
  }
  return names;
}

/**
 * yargs reads `--upload-timeout -5s` as a flag with no value followed by the short flags -5 and
 * -s ("Unknown argument: 5"). No flag starts with a digit, so a dash and a digit after a flag
 * that takes a value is that value: joined as `--upload-timeout=-5s`, its validator names it.
 */
export function joinDashValues(argv: readonly string[], takesValue: ReadonlySet<string>): string[] {
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (arg === '--') return [...joined, ...argv.slice(i)];
    if (takesValue.has(arg) && next !== undefined && /^-\.?\d/.test(next)) {
      joined.push(`${arg}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}
