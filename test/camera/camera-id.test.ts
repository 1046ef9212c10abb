import { describe, expect, it } from 'vitest';
import { deriveCameraId, uuidv5 } from '../../src/camera/camera-id.js';
import { parseSource } from '../../src/camera/source.js';

describe('camera id', () => {
  it.each([
    ['rtsp://camera/stream', '92ac8e61-ac46-587e-baf2-3a85fa18a362'],
    ['rtsp://admin:pass@192.168.1.10/stream', 'b6ab1099-97ae-5bd9-9021-a2139146d286'],
  ])('derives the Python relay id for %s', (source, id) => {
    expect(deriveCameraId(parseSource(source), 'aabbccddeeff')).toBe(id);
  });

  it('trims the source before hashing', () => {
    expect(deriveCameraId(parseSource('  rtsp://camera/stream '), 'aabbccddeeff')).toBe(
      '92ac8e61-ac46-587e-baf2-3a85fa18a362',
    );
  });

  it('falls back to the hostname without a MAC and never fails', () => {
    expect(deriveCameraId(parseSource('testsrc'), undefined)).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('matches RFC 4122 uuid5 for a known vector', () => {
    // Python: uuid.uuid5(uuid.NAMESPACE_URL, 'https://example.com')
    expect(uuidv5('https://example.com')).toBe('4fd35a71-71ef-5a55-a9d9-aa75c889a6d0');
  });
});
