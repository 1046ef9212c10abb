import { describe, expect, it } from 'vitest';
import { resolveFleetConfig } from '../../src/config/fleet-config.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers/temp-dir.js';

const spoolDir = tempDir('fleet-config-');
const shared = { token: 'tok-123', spoolDir, cloud: 'http://127.0.0.1:9' };

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('did not throw');
}

describe('resolveFleetConfig', () => {
  it('one --source is a fleet of one, as the relay always ran', () => {
    const fleet = resolveFleetConfig({ ...shared, source: 'testsrc', uploadConcurrency: '3' }, undefined, {});
    expect(fleet.single).toBe(true);
    expect(fleet.cameras).toHaveLength(1);
    expect(fleet.process.upload).toEqual({ concurrency: 3, order: 'fifo', maxRateBytesPerS: undefined });
  });

  it('each camera is the shared settings with its own keys on top', () => {
    const fleet = resolveFleetConfig(
      { ...shared, fps: '2', uploadOrder: 'live-first', maxUploadRate: '16Mbit/s' },
      [
        { id: 'front', source: 'testsrc', codec: 'copy', audio: 'copy', 'segment-duration': 4 },
        { id: 'yard', source: 'testsrc2', fps: 5, 'max-spool-mb': 10 },
      ],
      {},
    );
    expect(fleet.single).toBe(false);
    const [front, yard] = fleet.cameras;
    expect([front!.cameraId, front!.codec, front!.segmentDurationS, front!.fps, front!.audio]).toEqual([
      'front',
      'copy',
      4,
      2,
      'copy',
    ]);
    expect(yard!.audio).toBe('off');
    expect([yard!.cameraId, yard!.fps, yard!.maxSpoolBytes, yard!.cloud]).toEqual([
      'yard',
      5,
      10 * 1024 * 1024,
      'http://127.0.0.1:9',
    ]);
    // One request per camera by default; the pool's settings are shared.
    expect(fleet.process.upload).toEqual({
      concurrency: 2,
      order: 'live-first',
      maxRateBytesPerS: 2_000_000,
    });
  });

  it('names the camera when one of its values is wrong', () => {
    expect(
      thrown(() => resolveFleetConfig(shared, [{ id: 'yard', source: 'testsrc', fps: 500 }], {})).message,
    ).toBe('camera "yard": fps 500: expected frames per second from 0.1 to 120');
  });

  it("blames no camera for a shared setting: the message is the flag's own, its source named by main", () => {
    const cameras = [{ id: 'yard', source: 'testsrc' }];
    expect(thrown(() => resolveFleetConfig({ ...shared, fps: 500 }, cameras, {})).message).toBe(
      '--fps 500: expected frames per second from 0.1 to 120',
    );
    expect(thrown(() => resolveFleetConfig({ ...shared, token: 'clé' }, cameras, {})).message).toMatch(
      /^--token: the API key must be printable ASCII/,
    );
  });

  it('refuses a list without ids, sources or with one id twice, an empty one, and --source with a list', () => {
    expect(thrown(() => resolveFleetConfig(shared, [{ source: 'testsrc' }], {})).message).toBe(
      'camera #1 of the cameras: list has no id',
    );
    expect(thrown(() => resolveFleetConfig(shared, [{ id: 'a' }], {})).message).toBe(
      'camera "a" has no source (nor an ONVIF host)',
    );
    expect(
      thrown(() =>
        resolveFleetConfig(
          shared,
          [
            { id: 'a', source: 'testsrc' },
            { id: 'a', source: 'testsrc2' },
          ],
          {},
        ),
      ).message,
    ).toBe(`camera "a": the id is already camera #1's: every camera needs its own`);
    expect(thrown(() => resolveFleetConfig(shared, [], {})).message).toMatch(/is empty/);
    expect(
      thrown(() => resolveFleetConfig({ ...shared, source: 'testsrc' }, [{ id: 'a', source: 'testsrc' }], {}))
        .message,
    ).toMatch(/^--source and a cameras: list/);
  });

  it('refuses a bad --upload-order and --max-upload-rate with the flag named', () => {
    expect(
      thrown(() => resolveFleetConfig({ ...shared, source: 'testsrc', uploadOrder: 'newest' }, undefined, {}))
        .message,
    ).toMatch(/^--upload-order newest/);
    expect(
      thrown(() => resolveFleetConfig({ ...shared, source: 'testsrc', maxUploadRate: 'fast' }, undefined, {}))
        .message,
    ).toMatch(/^--max-upload-rate fast: expected a rate such as/);
  });
});
