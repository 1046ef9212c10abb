import { describe, expect, it } from 'vitest';
import { childEnvironment } from '../../src/camera/exec.js';

describe('childEnvironment: what ffmpeg and ffprobe see of ours', () => {
  it('keeps what a child needs and drops every TRIO_* variable and anything unlisted', () => {
    const env = childEnvironment({
      PATH: '/usr/bin',
      HOME: '/home/relay',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      TZ: 'UTC',
      TMPDIR: '/tmp',
      https_proxy: 'http://proxy:3128',
      NO_PROXY: 'localhost',
      LIBVA_DRIVER_NAME: 'iHD',
      TRIO_TOKEN: 'tok',
      TRIO_SOURCE: 'rtsp://a:b@c/d',
      TRIO_CAMERA_PASSWORD: 'pw',
      AWS_SECRET_ACCESS_KEY: 'x',
      NODE_OPTIONS: '--inspect',
    });
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/relay',
      LANG: 'C.UTF-8',
      LC_ALL: 'C',
      TZ: 'UTC',
      TMPDIR: '/tmp',
      https_proxy: 'http://proxy:3128',
      NO_PROXY: 'localhost',
      LIBVA_DRIVER_NAME: 'iHD',
    });
  });
});
