/**
 * Everything the relay prints or writes goes through here: URL passwords and the API token
 * never reach a log, status line, event, error message or spool file. Two layers: every secret
 * the relay was given (the token, the password of --source and --cloud, in each spelling it may
 * take) is masked wherever it appears, and any `scheme://user:password@` in a text is masked by
 * its shape, so a URL the relay never saw whole (one ffmpeg prints back) is covered too.
 */
const secrets = new Set<string>();
/** The same, longest first (a secret's escaped form may contain its raw form): kept sorted as they come. */
let longestFirst: string[] = [];

/** Shorter secrets are masked by their URL shape only: masking "123" everywhere would garble logs. */
const MIN_SECRET_LENGTH = 4;
/** A secret cut at the end of a truncated text still shows this much of itself. */
const MIN_CUT_SECRET = 3;

const MASK = '***';

/**
 * Register a secret (the token) so every later `redact` call masks it, also percent-, JSON- or
 * HTML-escaped and base64-encoded: the spellings an ingest echoing a request may give it back in.
 */
export function registerSecret(secret: string | undefined): void {
  if (!secret || secret.length < MIN_SECRET_LENGTH) return;
  const forms = [secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];
  for (const form of [...forms, ...htmlForms(secret), ...base64Forms(secret)]) secrets.add(form);
  longestFirst = [...secrets].sort((a, b) => b.length - a.length);
}

/** `&<>` only (text nodes), and with quotes as the common escapers write them (named, decimal, hex). */
function htmlForms(secret: string): string[] {
  const escaped = (quote: string, apostrophe: string, all: boolean) =>
    secret.replace(all ? /[&<>"']/g : /[&<>]/g, (c) =>
      c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? quote : apostrophe,
    );
  return [
    escaped('"', "'", false),
    escaped('&quot;', '&#39;', true),
    escaped('&quot;', '&#x27;', true),
    escaped('&#34;', '&#39;', true),
  ];
}

/** A base64 run shorter than this is not masked: it could be any word of a log line. */
const MIN_BASE64_FORM = 8;

/**
 * The secret base64-encoded on its own, and inside a longer encoded text: there its characters
 * depend on its offset modulo 3, so for each offset the run that only its own bits decide
 * (standard and URL-safe alphabets).
 */
function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const forms = [bytes.toString('base64'), bytes.toString('base64url')];
  for (let offset = 0; offset < 3; offset++) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes]);
    // Characters 6 bits wide: the first one without a padding bit, up to the last full one.
    const first = Math.ceil((offset * 8) / 6);
    const last = Math.floor((padded.length * 8) / 6);
    for (const alphabet of ['base64', 'base64url'] as const) {
      forms.push(padded.toString(alphabet).slice(first, last));
    }
  }
  return forms.filter((form) => form.length >= MIN_BASE64_FORM);
}

/**
 * Register the password of a URL the operator gave (--source, --cloud): as typed, decoded and
 * as WHATWG URL re-encodes it. Works on a URL that does not parse too.
 */
export function registerUrlSecrets(url: string): void {
  const password = SINGLE_URL.exec(url)?.[3];
  if (!password) return;
  registerSecret(password);
  try {
    registerSecret(decodeURIComponent(password));
  } catch {
    // not valid percent-encoding: the raw form is registered
  }
  try {
    registerSecret(new URL(url).password);
  } catch {
    // does not parse: the raw form is registered
  }
}

/**
 * One URL value: the password runs from the first `:` of the userinfo to the LAST `@` (so it
 * may hold `@`, `:`, `/`, `%` escapes and spaces). A path holding an `@` is masked too: too much
 * rather than too little.
 */
const SINGLE_URL = /^(\s*[a-z][a-z0-9+.-]*:\/\/)([^/?#:]*):(.*)@/is;

/**
 * A URL inside free text ends at whitespace, a quote or `<>`: within that, the password runs to
 * the last `@`. A raw space in a password cannot be told from the end of the URL here; the
 * registered secrets cover the passwords the relay was given. One slash is enough: a URL
 * mistyped `rtsp:/user:pw@cam` is masked too.
 */
const URL_IN_TEXT = /([a-z][a-z0-9+.-]*:\/\/?)([^\s/?#:'"<>]*):([^\s'"<>]*)@/gi;

/** Mask the password of one URL (`rtsp://user:p@ss@host` → `rtsp://user:***@host`). */
export function redactUrl(url: string): string {
  return maskSecrets(url.replace(SINGLE_URL, `$1$2:${MASK}@`));
}

/** For a URL that does not parse: hide all of its userinfo (`rtsp://***@host…`). */
export function hideUserinfo(url: string): string {
  return maskSecrets(url.replace(/^(\s*[a-z][a-z0-9+.-]*:\/\/).*@/is, `$1${MASK}@`));
}

/**
 * One value the operator meant as a URL but mistyped (`rtsp:/admin:pw@cam`, `rtsp//…`,
 * `admin:pw@cam/1`), so it parses as no URL and is quoted as a path: whatever comes before its
 * last `@`, when a `:` does too, may be a user and password, and is masked whatever the scheme
 * (`rtsp:/***@cam`, `***@cam/1`). A leading scheme and slashes stay, to show the typo.
 */
export function maskUserinfoLike(value: string): string {
  const at = value.lastIndexOf('@');
  if (at < 0 || !value.slice(0, at).includes(':')) return maskSecrets(value);
  // `rtsp:/`, `rtsp//`, `rtsp:` stay; `admin:` of `admin:pw@cam` is no scheme and goes.
  const kept = /^\s*(?:[a-z][a-z0-9+.-]*:?\/+|(?:rtsps?|https?):)?/i.exec(value.slice(0, at))![0];
  return maskSecrets(`${kept}${MASK}${value.slice(at)}`);
}

/** Mask URL passwords anywhere in a text, then every registered secret. */
export function redact(text: string): string {
  return maskSecrets(text.replace(URL_IN_TEXT, `$1$2:${MASK}@`));
}

/**
 * Fields that look like a credential (JSON `"api_key": "…"`, `token=…`, `Authorization: Bearer
 * …`): an ingest that echoes the request must not put the key on disk, whatever key it was.
 */
const CREDENTIAL_FIELD =
  /((?:x-api-key|api[-_]?key|(?:access[-_]?|auth[-_]?|id[-_]?)?token|authorization|password|passwd|secret)"?\s*[:=]\s*"?(?:(?:bearer|basic|token)\s+)?)((?:\\.|[^"\\\s,;&}])+)/gi;

/**
 * An answer of the ingest, kept in logs and `rejected/` notes: `redact`, plus credential-looking
 * fields, plus a secret cut off at the end (answers are kept only up to a few hundred bytes).
 */
export function redactReply(text: string): string {
  const out = redact(text).replace(CREDENTIAL_FIELD, `$1${MASK}`);
  let cut = 0;
  for (const secret of secrets) {
    for (let keep = secret.length - 1; keep > Math.max(cut, MIN_CUT_SECRET - 1); keep--) {
      if (out.endsWith(secret.slice(0, keep))) cut = keep;
    }
  }
  return cut === 0 ? out : `${out.slice(0, -cut)}${MASK}`;
}

function maskSecrets(text: string): string {
  let out = text;
  for (const secret of longestFirst) out = out.split(secret).join(MASK);
  return out;
}
