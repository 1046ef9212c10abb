/**
 * Text a device on the LAN chose (an ONVIF name, model, profile name, SOAP fault reason), made
 * safe to print on an operator's terminal. A device may answer with escape sequences that
 * recolour, retitle, clear or rewrite the screen, or hide a line: whole ESC/CSI/OSC/DCS
 * sequences are removed, then every other control character (C0, DEL, C1) and the Unicode
 * bidirectional overrides that reorder what is shown. Tabs and line ends become a space (a
 * device's text is shown on one line).
 */
const ESCAPE_SEQUENCE = new RegExp(
  [
    // OSC, DCS, SOS, PM, APC: ESC ] … up to BEL or ST (ESC \), or their C1 forms.
    '(?:\\u001b[\\]PX^_]|[\\u0090\\u0098\\u009d\\u009e\\u009f])[^\\u0007\\u001b\\u009c]*(?:\\u0007|\\u001b\\\\|\\u009c)?',
    // CSI: ESC [ or C1 CSI, parameters, intermediates, one final byte.
    '(?:\\u001b\\[|\\u009b)[\\u0030-\\u003f]*[\\u0020-\\u002f]*[\\u0040-\\u007e]?',
    // Any other two-byte escape (ESC c resets the terminal, ESC 7/8, charset selection …).
    '\\u001b[\\u0020-\\u002f]*[\\u0030-\\u007e]?',
  ].join('|'),
  'g',
);
const WHITESPACE_CONTROL = /[\t\n\v\f\r\u0085\u2028\u2029]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters removed.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without terminal escapes or control characters; undefined stays undefined. */
export function printable<T extends string | undefined>(text: T): T {
  if (text === undefined) return text;
  return text.replace(ESCAPE_SEQUENCE, '').replace(WHITESPACE_CONTROL, ' ').replace(CONTROL, '') as T;
}
