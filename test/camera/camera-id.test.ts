import { describe, expect, it } from 'vitest';
import { deriveCameraId, isValidCameraId, uuidv5 } from '../../src/camera/camera-id.js';
import { parseSource } from '../../src/camera/source.js';

const MAC = 'aabbccddeeff';

describe('camera id', () => {
  it.each([
    ['rtsp://camera/stream', '92ac8e61-ac46-587e-baf2-3a85fa18a362'],
    ['rtsp://admin:pass@192.168.1.10/stream', 'b6ab1099-97ae-5bd9-9021-a2139146d286'],
  ])('legacy: derives the Python relay id for %s', (source, id) => {
    expect(deriveCameraId(parseSource(source), 'legacy', MAC)).toBe(id);
  });

  it('by default leaves the userinfo out: the same id whatever the password, none to brute-force', () => {
    const ids = ['12345', '12346', 'p@ss:w0rd', ''].map((password) =>
      deriveCameraId(parseSource(`rtsp://admin:${password}@192.168.1.10/stream`), 'no-credentials', MAC),
    );
    expect(new Set(ids).size).toBe(1);
    // The id of the URL as if typed without credentials (the Python rule on that URL).
    expect(ids[0]).toBe(deriveCameraId(parseSource('rtsp://192.168.1.10/stream'), 'legacy', MAC));
    expect(ids[0]).not.toBe('b6ab1099-97ae-5bd9-9021-a2139146d286');
    // A URL without credentials keeps the Python relay's id.
    expect(deriveCameraId(parseSource('rtsp://camera/stream'), undefined, MAC)).toBe(
      '92ac8e61-ac46-587e-baf2-3a85fa18a362',
    );
  });

  it('trims the source before hashing', () => {
    expect(deriveCameraId(parseSource('  rtsp://camera/stream '), 'legacy', MAC)).toBe(
      '92ac8e61-ac46-587e-baf2-3a85fa18a362',
    );
  });

  it('falls back to the hostname without a MAC and never fails', () => {
    expect(deriveCameraId(parseSource('testsrc'), 'no-credentials', undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('matches RFC 4122 uuid5 for a known vector', () => {
    // Python: uuid.uuid5(uuid.NAMESPACE_URL, 'https://example.com')
    expect(uuidv5('https://example.com')).toBe('4fd35a71-71ef-5a55-a9d9-aa75c889a6d0');
  });

  it('one rule for a valid id (--camera-id and the ingest paths)', () => {
    expect(isValidCameraId('front-door_1.a')).toBe(true);
    for (const id of ['', '..', '.hidden', 'a/b', 'x'.repeat(129), 'é'])
      expect(isValidCameraId(id)).toBe(false);
  });
});
