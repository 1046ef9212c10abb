/** A registration body over this size gets 413: the contract's payload is a few hundred bytes. */
export const MAX_REGISTER_BYTES = 16 * 1024;
/** Longer camera names get 400: a name is shown in every viewer poll, and kept in memory. */
export const MAX_NAME_CHARS = 256;
/** Deeper JSON gets 400: the contract's payload is two levels deep, and recursion has a stack. */
export const MAX_JSON_DEPTH = 16;

export type Registration =
  | { readonly ok: true; readonly id: string; readonly json: string }
  | { readonly ok: false; readonly status: 400; readonly error: string };

/**
 * Judge a registration body (already within MAX_REGISTER_BYTES) before anything is created: JSON
 * no deeper than MAX_JSON_DEPTH (checked on the text, so neither parse nor stringify recurses far),
 * an `id` that `validId` accepts, a string `name` (if any) of at most MAX_NAME_CHARS. On success,
 * `json` is what camera.json will hold.
 */
export function readRegistration(text: string, validId: (id: string) => boolean): Registration {
  const bad = (error: string): Registration => ({ ok: false, status: 400, error });
  if (jsonDepth(text) > MAX_JSON_DEPTH) return bad(`json nested deeper than ${MAX_JSON_DEPTH} levels`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return bad('invalid json');
  }
  const { id, name } = (typeof body === 'object' && body !== null ? body : {}) as {
    id?: unknown;
    name?: unknown;
  };
  if (typeof id !== 'string' || !validId(id)) return bad('missing or invalid id');
  if (name !== undefined && typeof name !== 'string') return bad('name must be a string');
  if (typeof name === 'string' && [...name].length > MAX_NAME_CHARS)
    return bad(`name over ${MAX_NAME_CHARS} characters`);
  return { ok: true, id, json: `${JSON.stringify(body, null, 2)}\n` };
}

/** The deepest nesting of objects and arrays in JSON text (brackets inside strings not counted). */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return deepest;
}

/** A name from a camera.json written before the cap (or by hand), cut to what is shown. */
export function shownName(name: unknown): string {
  return typeof name === 'string' ? [...name].slice(0, MAX_NAME_CHARS).join('') : '';
}
