/**
 * Everything the relay prints goes through here: URL passwords and the API token never reach a
 * log, status line, event or error message.
 */
const secrets = new Set<string>();

/** Register a secret (the token) so every later `redact` call masks it. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 4) secrets.add(secret);
}

/** Mask the password of one URL (`rtsp://user:pass@host` → `rtsp://user:***@host`). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:\s]*):[^@/\s]*@/i, '$1:***@');
}

/** Mask URL passwords anywhere in a text, then every registered secret. */
export function redact(text: string): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/[^/@:\s"']*):[^@/\s"']*@/gi, '$1:***@');
  for (const secret of secrets) out = out.split(secret).join('***');
  return out;
}
