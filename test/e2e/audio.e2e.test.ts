import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startCamera } from '../helpers/camera.js';
import { cleanUpAfterAll } from '../helpers/cleanup.js';
import { expectCameraDelivered, stopRelay } from '../helpers/delivery.js';
import { probeAudio, probeSegment } from '../helpers/ffprobe.js';
import { startTestIngest } from '../helpers/ingest.js';
import { newSpoolDir, startRelay } from '../helpers/relay-run.js';

cleanUpAfterAll();

/**
 * A camera with a microphone (a second RTP stream) through the built CLI: every segment at the
 * ingest carries the audio, still starts on a video keyframe, decodes on its own, and every
 * second of video the camera sent arrived or was declared.
 */
describe.each([
  {
    camera: 'aac',
    flags: ['--codec', 'copy', '--audio', 'copy'],
    stored: 'aac',
    name: '--codec copy --audio copy',
  },
  // G.711 cannot go into MPEG-TS as it is: --audio aac encodes it (with re-encoded video here).
  { camera: 'pcma', flags: ['--audio', 'aac'], stored: 'aac', name: '--audio aac' },
] as const)('a camera sending $camera audio, relayed with $name', ({ camera: audio, flags, stored }) => {
  it('stores segments with an audio stream, each starting on a keyframe, nothing lost', {
    timeout: 90_000,
  }, async () => {
    const camera = await startCamera({ audio });
    const ingest = await startTestIngest();
    const spool = newSpoolDir();
    const cameraId = `cam-audio-${audio}`;
    const since = Date.now();
    const relay = startRelay(camera.url, ingest.url, spool, ['--camera-id', cameraId, ...flags]);
    try {
      await ingest.waitFor((s) => s.accepted >= 5, 45_000);
      expect(await stopRelay(relay), relay.stderr()).toBe(0);
      const rows = ingest.accepted(cameraId);
      expect(rows.length).toBeGreaterThanOrEqual(5);
      for (const row of rows) {
        const file = join(ingest.outDir, cameraId, row.file!);
        const video = await probeSegment(file);
        expect(video.videoCodec).toBe('h264');
        expect(video.firstVideoPacketIsKeyframe, row.file!).toBe(true);
        const sound = await probeAudio(file);
        expect(sound, row.file!).toMatchObject({ codec: stored, decodeErrors: '' });
        // The stop's final segment may be a frame or two long: shorter than the encoder's first
        // AAC frame plus its priming delay, it can hold no audio packet yet.
        const finalAndShort = row === rows.at(-1) && (row.duration ?? 1) < 0.5;
        if (!finalAndShort) expect(sound.packets, row.file!).toBeGreaterThan(0);
      }
      await expectCameraDelivered({ ingest, cameraId, camera, spool, since });
    } finally {
      relay.kill('SIGKILL');
      await ingest.close();
    }
  });
});
