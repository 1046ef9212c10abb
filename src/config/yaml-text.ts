import { createRequire } from 'node:module';
import type { Alias, Document, ErrorCode } from 'yaml';
import { ConfigError } from '../errors.js';
import { tooDeepAt } from './yaml-depth.js';

/**
 * Aliases a file may expand to, counted as the yaml package counts them (an alias of a list of
 * aliases counts each): far above what a settings file uses, far below a "billion laughs" bomb.
 */
export const MAX_ALIAS_COUNT = 100;

/**
 * What each of the yaml package's error codes means, in our words. Its own messages are not
 * shown: some quote the file (an escape sequence, a tag, a token), and the file holds the key.
 */
const PROBLEMS: Record<ErrorCode, string> = {
  ALIAS_PROPS: 'an alias (*name) cannot have an anchor or a tag',
  BAD_ALIAS: 'a malformed alias (*name)',
  BAD_DIRECTIVE: 'a malformed % directive',
  BAD_DQ_ESCAPE: 'an unknown \\ escape in a "double-quoted" value (\'single quotes\' keep \\ as it is)',
  BAD_INDENT: 'bad indentation',
  BAD_PROP_ORDER: 'an anchor or a tag before its - or ? indicator',
  BAD_SCALAR_START: 'a value starting with a reserved character (put it in quotes)',
  BLOCK_AS_IMPLICIT_KEY: 'a nested block used as a key',
  BLOCK_IN_FLOW: 'a block inside [ ] or { }',
  DUPLICATE_KEY: 'Map keys must be unique',
  IMPOSSIBLE: 'unreadable YAML',
  KEY_OVER_1024_CHARS: 'a key longer than 1024 characters',
  MISSING_CHAR: 'a missing character (an unclosed quote or bracket, or no space after :)',
  MULTILINE_IMPLICIT_KEY: 'a key spread over several lines',
  MULTIPLE_ANCHORS: 'more than one anchor (&name) on one value',
  MULTIPLE_DOCS: 'more than one document (---)',
  MULTIPLE_TAGS: 'more than one tag on one value',
  NON_STRING_KEY: 'a key that is not a string',
  RESOURCE_EXHAUSTION: 'values nested too deep',
  TAB_AS_INDENT: 'a tab used for indentation (use spaces)',
  TAG_RESOLVE_FAILED: 'an unknown tag (!name)',
  UNEXPECTED_TOKEN: 'unexpected text',
  BAD_COLLECTION_TYPE: 'a tag that does not fit its value',
};

const TOO_DEEP = PROBLEMS.RESOURCE_EXHAUSTION;
const ALIAS_BOMB = `aliases that expand past ${MAX_ALIAS_COUNT} values (an alias bomb?)`;

/**
 * Parse a config file's YAML (hence JSON) into plain data. Every problem, warnings included (an
 * unknown tag would silently read as a string), is one ConfigError naming `where`, the line and
 * the column and what is wrong, never the file's text.
 */
export function parseYamlText(text: string, where: string): unknown {
  // Loaded here, not at start-up: a relay run without --config never pays yaml's memory.
  // Required (not imported) because yargs calls the config parser synchronously.
  // Refused before the parser sees it: at its stack's edge V8 may abort instead of throwing.
  const deep = tooDeepAt(text);
  if (deep) throw invalid(where, TOO_DEEP, deep);
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter, logLevel: 'error', prettyErrors: false, uniqueKeys: true });
  } catch (error) {
    // Nesting the count above missed, deep enough to overflow the parser's stack.
    if (error instanceof RangeError) throw invalid(where, TOO_DEEP, undefined);
    throw error;
  }
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem)
    throw invalid(where, PROBLEMS[problem.code] ?? 'unreadable YAML', lineCounter.linePos(problem.pos[0]));
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof RangeError) throw invalid(where, TOO_DEEP, undefined);
    // A plain ReferenceError (an alias with no anchor, or too many aliases): the alias it
    // stopped at is found again here, to point at it.
    if (!(error instanceof ReferenceError)) throw error;
    const orphan = firstAlias(doc, (node) => node.resolve(doc) === undefined);
    if (orphan !== undefined) {
      throw invalid(where, 'an alias (*name) with no anchor (&name) before it', lineCounter.linePos(orphan));
    }
    const first = firstAlias(doc, () => true);
    throw invalid(where, ALIAS_BOMB, first === undefined ? undefined : lineCounter.linePos(first));
  }
}

function invalid(where: string, what: string, pos: { line: number; col: number } | undefined): ConfigError {
  const place = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
  return new ConfigError(`${where}: not valid YAML or JSON${place}: ${what}`);
}

/** The offset of the first alias that `matches`, in document order. */
function yaml(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml');
}

function firstAlias(doc: Document, matches: (alias: Alias) => boolean): number | undefined {
  const { visit } = yaml();
  let offset: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (!matches(node)) return undefined;
      offset = node.range?.[0];
      return visit.BREAK;
    },
  });
  return offset;
}
