import { describe, expect, it } from 'vitest';
import { resolveRelayConfig } from '../../src/config/relay-config.js';
import { ConfigError } from '../../src/errors.js';
import { redact } from '../../src/redact.js';

/** A URL that does not parse, or is refused, is never quoted with its password. */
function message(flags: { source?: string; cloud?: string }): string {
  try {
    resolveRelayConfig({ source: 'testsrc', token: 'tok-123', ...flags }, {});
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('bad --source / --cloud URLs keep their password out of the error', () => {
  it.each([
    ['source', 'rtsp://admin:p@ss word@host:99999/cam', ['p@ss', 'word']],
    ['source', 'rtsp://admin:pa/ss@[bad/cam', ['pa/ss', 'pa']],
    ['source', 'rtsp://admin:s3cr%3At@host:70000/cam', ['s3cr', 's3cr:t']],
    ['source', 'gopher://admin:s3cret pass@host/cam', ['s3cret']],
    ['cloud', 'https://user:t0p s3cret@ingest:99999', ['t0p', 's3cret']],
    ['cloud', 'ftp://user:t0ps3cret@ingest', ['t0ps3cret']],
    ['cloud', 'https://user:t0p%40s3cret@ingest/?q=1', ['t0p', 's3cret']],
  ])('--%s %s', (flag, url, parts) => {
    const text = message({ [flag]: url });
    expect(text).toMatch(new RegExp(`^--${flag} `));
    for (const part of parts) expect(text).not.toContain(part);
    // And the password stays masked in anything printed later.
    expect(redact(`echo ${url}`)).not.toContain(parts[0]);
  });
});
