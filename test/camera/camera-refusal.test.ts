import { describe, expect, it } from 'vitest';
import { cameraRefusal } from '../../src/camera/camera-refusal.js';

describe('cameraRefusal', () => {
  it("finds the camera's refusal in ffmpeg's RTSP and HTTP lines", () => {
    expect(cameraRefusal(['[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized'])).toBe('401 Unauthorized');
    expect(cameraRefusal(['noise', 'HTTP error 403 Forbidden'])).toBe('403 Forbidden');
  });

  it('a 401 that is not a refusal (a port, a byte count) is not one', () => {
    expect(cameraRefusal(['Connection to tcp://10.0.0.5:5401 failed: Connection refused'])).toBeUndefined();
    expect(cameraRefusal([])).toBeUndefined();
  });
});
