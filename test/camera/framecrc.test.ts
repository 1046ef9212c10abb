import { describe, expect, it } from 'vitest';
import { parseFramecrc } from '../../src/camera/framecrc.js';

describe('parseFramecrc', () => {
  it('reads the time base and each packet, a missing F= flag meaning a keyframe', () => {
    const text = [
      '#software: Lavf59.27.100',
      '#tb 0: 1/90000',
      '#media_type 0: video',
      '#stream#, dts,        pts, duration,     size, hash',
      '0,          0,          0,     3600,    12345, 0x1a2b3c4d',
      '0,       3600,       3600,     3600,      678, 0x0f0e0d0c, F=0x0',
      '0,       7200,       7200,      N/A,      678, 0x0f0e0d0c, F=0x1',
      'not a packet',
      '',
    ].join('\n');
    expect(parseFramecrc(text)).toEqual({
      timebase: 1 / 90_000,
      packets: [
        { pts: 0, duration: 3600, key: true },
        { pts: 3600, duration: 3600, key: false },
        { pts: 7200, duration: 0, key: true },
      ],
    });
  });

  it('takes another time base, and nothing from empty output', () => {
    expect(parseFramecrc('#tb 0: 1/1000\n0, 40, 40, 40, 10, 0x1\n').timebase).toBe(1 / 1000);
    expect(parseFramecrc('')).toEqual({ timebase: 1 / 90_000, packets: [] });
  });
});
