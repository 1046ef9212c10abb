/**
 * How deep a settings file may nest, counted generously (see `tooDeepAt`). A settings file nests
 * a few levels; the yaml parser recurses once per level, and a file nested thousands deep ran it
 * to the edge of the stack, where V8 may abort the whole process instead of throwing.
 */
export const MAX_NESTING = 128;

/**
 * Where `text` first nests deeper than `max` levels, or undefined. Counted without parsing, and
 * over-counted on purpose: each open `[` or `{` outside quotes and comments, plus, on each line,
 * its indentation and every `- ` or `? ` that opens it (a block sequence inside one).
 */
export function tooDeepAt(text: string, max = MAX_NESTING): { line: number; col: number } | undefined {
  let flow = 0;
  let quote: "'" | '"' | undefined;
  let line = 1;
  let lineStart = 0;
  let block = 0;
  let atLineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      lineStart = i + 1;
      atLineStart = true;
      block = 0;
      continue;
    }
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (atLineStart) {
      // Indentation and block indicators: spaces, then any run of `- ` / `? `.
      if (c === ' ') {
        block++;
        continue;
      }
      if ((c === '-' || c === '?') && (text[i + 1] === ' ' || text[i + 1] === '\n')) {
        block++;
        continue;
      }
      atLineStart = false;
    }
    if (c === '#' && (i === lineStart || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      i = (end < 0 ? text.length : end) - 1;
      continue;
    }
    if (c === "'" || c === '"') quote = c;
    else if (c === '[' || c === '{') flow++;
    else if ((c === ']' || c === '}') && flow > 0) flow--;
    if (flow + block > max) return { line, col: i - lineStart + 1 };
  }
  return undefined;
}
