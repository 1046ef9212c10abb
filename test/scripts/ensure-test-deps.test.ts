import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./ensure-test-deps.mjs', import.meta.url));

describe('ensure-test-deps', () => {
  it('passes when the camera, ffprobe and chromium are available', () => {
    expect(spawnSync(process.execPath, [script]).status).toBe(0);
  });

  it('fails, naming the exact packages, when it may not install them', () => {
    const run = spawnSync(process.execPath, [script], {
      env: { ...process.env, TRIO_TEST_DEPS_PYTHON: '/nonexistent/python3', TRIO_TEST_DEPS_NO_INSTALL: '1' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'apt-get install -y --no-install-recommends python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad ffmpeg systemd chromium prometheus tinyproxy',
    );
  });
});
