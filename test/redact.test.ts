import { describe, expect, it } from 'vitest';
import {
  hideUserinfo,
  maskUserinfoLike,
  redact,
  redactReply,
  redactUrl,
  registerSecret,
  registerUrlSecrets,
} from '../src/redact.js';

// Structural masking first: nothing is registered until the last describe block.
describe('redactUrl: one URL value, masked up to the last @', () => {
  it.each([
    ['rtsp://admin:p@ssw0rd@host/cam', 'rtsp://admin:***@host/cam'],
    ['rtsp://admin:pa:ss@host/cam', 'rtsp://admin:***@host/cam'],
    ['rtsp://admin:pa/ss@host/cam', 'rtsp://admin:***@host/cam'],
    ['rtsp://admin:pass word@host/cam', 'rtsp://admin:***@host/cam'],
    ['rtsp://admin:p%40ss%3Aw%2Fo%25rd%20x@host:554/cam', 'rtsp://admin:***@host:554/cam'],
    ['rtsp://admin:p@ss:w/o%rd x@10.0.0.2/Streaming/101', 'rtsp://admin:***@10.0.0.2/Streaming/101'],
    ['rtsp://ad@min:pw@[::1]:8554/x', 'rtsp://ad@min:***@[::1]:8554/x'],
    ['RTSP://Admin:Secret@Host/cam', 'RTSP://Admin:***@Host/cam'],
    ['https://user:tok@ingest.example.com', 'https://user:***@ingest.example.com'],
    ['rtsp://admin:@host/cam', 'rtsp://admin:***@host/cam'],
    // Nothing to hide:
    ['rtsp://host/cam', 'rtsp://host/cam'],
    ['rtsp://user@host:554/cam', 'rtsp://user@host:554/cam'],
    ['https://ingest.example.com:8443', 'https://ingest.example.com:8443'],
    ['/dev/video0', '/dev/video0'],
  ])('%s → %s', (url, masked) => {
    expect(redactUrl(url)).toBe(masked);
  });
});

describe('hideUserinfo: a URL that does not parse loses its whole userinfo', () => {
  it.each([
    ['rtsp://admin:p@ss word@host:99999/cam', 'rtsp://***@host:99999/cam'],
    ['rtsp://admin:pa/ss@[bad/cam', 'rtsp://***@[bad/cam'],
    ['http://tok en@host:0x/', 'http://***@host:0x/'],
    ['rtsp://[bad/cam', 'rtsp://[bad/cam'],
  ])('%s → %s', (url, masked) => {
    expect(hideUserinfo(url)).toBe(masked);
  });
});

describe('redact: URLs inside free text (ffmpeg stderr, events, errors)', () => {
  it.each([
    [
      "Input #0, rtsp, from 'rtsp://admin:p@ss:w%2Fd@127.0.0.1:8554/stream':",
      "Input #0, rtsp, from 'rtsp://admin:***@127.0.0.1:8554/stream':",
    ],
    // One slash missing: still a URL to mask.
    ['source rtsp:/admin:pw-1@cam/1 is no file', 'source rtsp:/admin:***@cam/1 is no file'],
    [
      'rtsp://admin:p%40ss%20x@127.0.0.1:8554/stream: Server returned 401 Unauthorized (authorization failed)',
      'rtsp://admin:***@127.0.0.1:8554/stream: Server returned 401 Unauthorized (authorization failed)',
    ],
    [
      '{"detail":"rtsp://admin:p@ss@host/cam → http://127.0.0.1:8080 as cam"}',
      '{"detail":"rtsp://admin:***@host/cam → http://127.0.0.1:8080 as cam"}',
    ],
    [
      'ffmpeg ended (exit code 1): [rtsp @ 0x55d0] method DESCRIBE failed: 401 Unauthorized | rtsp://u:a/b@h/x: 401',
      'ffmpeg ended (exit code 1): [rtsp @ 0x55d0] method DESCRIBE failed: 401 Unauthorized | rtsp://u:***@h/x: 401',
    ],
    ['a rtsp://a:b@h1/x and rtsp://c:d@h2/y', 'a rtsp://a:***@h1/x and rtsp://c:***@h2/y'],
    // Untouched:
    ['Connection to tcp://127.0.0.1:8554?timeout=0 failed: Connection refused', null],
    ['[rtsp @ 0x55d0] method DESCRIBE failed: 401 Unauthorized', null],
    ['upload to http://127.0.0.1:8080/api/stream/ingest/cam failed: ECONNREFUSED', null],
  ])('%s', (text, masked) => {
    expect(redact(text)).toBe(masked ?? text);
  });
});

describe('registered secrets: masked wherever and however they appear', () => {
  it('a password the URL shape cannot delimit (a raw space) is masked through the registry', () => {
    registerUrlSecrets('rtsp://admin:pa ss/w@rd@10.1.1.1/cam');
    const out = redact('ffmpeg: rtsp://admin:pa ss/w@rd@10.1.1.1/cam: 401 Unauthorized');
    expect(out).not.toContain('pa ss');
    expect(out).not.toContain('ss/w@rd');
    expect(out).toContain('@10.1.1.1/cam: 401 Unauthorized');
  });

  it('a percent-encoded password is masked encoded, decoded and JSON-escaped', () => {
    registerUrlSecrets('rtsp://admin:p%40ss%3A%22w%2F%25rd%20x@host/cam');
    const decoded = 'p@ss:"w/%rd x';
    for (const text of [
      `password ${decoded} in plain text`,
      JSON.stringify({ message: `said ${decoded}` }),
      'raw p%40ss%3A%22w%2F%25rd%20x form',
    ]) {
      const out = redact(text);
      expect(out).not.toContain(decoded);
      expect(out).not.toContain(JSON.stringify(decoded).slice(1, -1));
      expect(out).not.toContain('p%40ss');
    }
  });

  it('masks a URL that does not parse too (its password is registered from its shape)', () => {
    registerUrlSecrets('rtsp://admin:0dd pass@host:99999/cam');
    expect(redact('the pass is 0dd pass, really')).toBe('the pass is ***, really');
  });

  it('masks the token as typed, percent-encoded and JSON-escaped', () => {
    registerSecret('tok/en"12+34');
    for (const form of ['tok/en"12+34', encodeURIComponent('tok/en"12+34'), 'tok/en\\"12+34']) {
      expect(redact(`key ${form} here`)).toBe('key *** here');
    }
    expect(redact(JSON.stringify({ key: 'tok/en"12+34' }))).toBe('{"key":"***"}');
  });

  it("redactReply masks credential-looking fields and a token cut off at the answer's end", () => {
    registerSecret('e2e-token-5f1c');
    expect(redactReply('{"error":"bad","echo":"e2e-token-5f1c"}')).toBe('{"error":"bad","echo":"***"}');
    expect(redactReply('a long answer … e2e-tok')).toBe('a long answer … ***');
    expect(redactReply('{"api_key":"zz1","token": "yy2","x-api-key":"ww3"}')).toBe(
      '{"api_key":"***","token": "***","x-api-key":"***"}',
    );
    expect(redactReply('Authorization: Bearer qq4\nnext')).toBe('Authorization: Bearer ***\nnext');
    expect(redactReply('?api-key=vv5&b=1')).toBe('?api-key=***&b=1');
    expect(redactReply('{"error":"segment too short"}')).toBe('{"error":"segment too short"}');
  });

  it('masks the token HTML-escaped, as the common escapers write it', () => {
    const token = `k3y<&>"'-html-7f21`;
    registerSecret(token);
    const escapes = [
      (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'),
      (t: string) =>
        t
          .replace(/&/g, '&amp;')
          .replace(/</g, '&lt;')
          .replace(/>/g, '&gt;')
          .replace(/"/g, '&quot;')
          .replace(/'/g, '&#x27;'),
      (t: string) =>
        t
          .replace(/&/g, '&amp;')
          .replace(/</g, '&lt;')
          .replace(/>/g, '&gt;')
          .replace(/"/g, '&#34;')
          .replace(/'/g, '&#39;'),
    ];
    for (const htmlEscape of escapes)
      expect(redactReply(`<p>key ${htmlEscape(token)}!</p>`)).toBe('<p>key ***!</p>');
  });

  it('masks the token base64-encoded alone or inside a longer encoded text, at any offset', () => {
    const token = 'b64-token-9a8b7c6d';
    registerSecret(token);
    for (const before of ['', 'a', 'ab', 'abc', 'x-api-key: ']) {
      for (const alphabet of ['base64', 'base64url'] as const) {
        const encoded = Buffer.from(`${before}${token} and more`).toString(alphabet);
        const masked = redactReply(`echo: ${encoded}`);
        expect(masked, `${alphabet} after "${before}"`).toContain('***');
        // What is left decodes to no more than 2 bytes of the token on either side.
        for (const run of masked.match(/[A-Za-z0-9+/_-]{4,}/g) ?? []) {
          expect(Buffer.from(run, alphabet).toString('latin1')).not.toContain(token.slice(2, -2));
        }
      }
    }
  });
});

describe('maskUserinfoLike: a mistyped URL quoted as a path', () => {
  it.each([
    ['rtsp:/admin:p@ss:w%rd #/x@host/cam', 'rtsp:/***@host/cam'],
    ['rtsp//admin:pw@host/cam', 'rtsp//***@host/cam'],
    ['rtsp:admin:pw@host/cam', 'rtsp:***@host/cam'],
    ['admin:pw@cam/1', '***@cam/1'],
    ['foo:/u:p@h', 'foo:/***@h'],
    // Nothing that looks like a password:
    ['/videos/clip@2x.mp4', '/videos/clip@2x.mp4'],
    ['clip.mp4', 'clip.mp4'],
  ])('%s → %s', (value, masked) => {
    expect(maskUserinfoLike(value)).toBe(masked);
  });
});
