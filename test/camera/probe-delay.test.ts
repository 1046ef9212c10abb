import { describe, expect, it } from 'vitest';
import { probeDelayMs } from '../../src/camera/supervisor.js';

describe('probeDelayMs', () => {
  it('probes an absent camera every second for its first minute away, then every 3 s', () => {
    expect(probeDelayMs(0, 1000)).toBe(1000);
    expect(probeDelayMs(59_999, 1000)).toBe(1000);
    expect(probeDelayMs(60_000, 1000)).toBe(3000);
    expect(probeDelayMs(3_600_000, 1000)).toBe(3000);
  });
});
