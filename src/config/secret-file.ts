import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

/**
 * A one-line secret read from a file (--token-file, --password-file): files keep secrets out of
 * `ps` and shell history. The line end an editor adds is dropped; `trim` drops all surrounding
 * whitespace too (an API key has none; a password may begin or end with a space). The message
 * names the flag and the path, never the content.
 */
export function readSecretFile(flag: string, path: string, options: { trim: boolean }): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`--${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
  }
  const secret = options.trim ? text.trim() : text.replace(/\r?\n$/, '');
  if (options.trim && !secret) throw new ConfigError(`--${flag} ${path} is empty`);
  if (/[\r\n]/.test(secret)) throw new ConfigError(`--${flag} ${path}: expected one line`);
  return secret;
}
