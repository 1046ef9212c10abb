import { ConfigError } from '../errors.js';
import { readSecretFile } from './secret-file.js';

/**
 * The API key travels in the `X-API-Key` header. Printable ASCII without spaces is what a key
 * is: undici refuses anything past Latin-1 or a control character on every request (a retry
 * loop that can never succeed), and sends Latin-1 as single bytes, not the key's UTF-8.
 */
const KEY_PATTERN = /^[\x21-\x7e]+$/;

/**
 * Refuse a key no header can carry, before anything starts. `flag` names where it came from as
 * the validators do (`--token`, `--token-file PATH`); the key itself is never shown.
 */
export function checkApiKey(flag: string, key: string): string {
  if (!KEY_PATTERN.test(key)) {
    throw new ConfigError(
      `${flag}: the API key must be printable ASCII without spaces (it has a non-ASCII, space or control character, or more than one line); not shown here`,
    );
  }
  return key;
}

/**
 * --token or --token-file (the file keeps the key out of `ps`), never both: the relay's and the
 * ingest server's rule. Undefined when neither is given.
 */
export function tokenFromFlags(flags: {
  readonly token?: string | undefined;
  readonly tokenFile?: string | undefined;
}): string | undefined {
  if (flags.token !== undefined && flags.tokenFile !== undefined) {
    throw new ConfigError('pass either --token or --token-file, not both');
  }
  if (flags.tokenFile !== undefined) {
    const key = readSecretFile('token-file', flags.tokenFile, { trim: true });
    return checkApiKey(`--token-file ${flags.tokenFile}`, key);
  }
  return flags.token === undefined ? undefined : checkApiKey('--token', flags.token);
}
