import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  isDiscontinuity,
  type PlaylistSegment,
  renderPlaylist,
} from '../../../src/ingest-server/viewer/playlist.js';
import { TOKEN, useIngest } from '../fixtures/ingest.js';
import { ffmpegSegments } from '../fixtures/segments.js';

const run = promisify(execFile);
const ingest = useIngest();

const seg = (over: Partial<PlaylistSegment>): PlaylistSegment => ({
  file: 'f.ts',
  sequence: 0,
  start: '2026-01-01T00:00:00.000Z',
  duration: 2,
  firstPtsS: 1.4,
  discontinuity: false,
  ...over,
});

describe('isDiscontinuity', () => {
  const prev = seg({});
  it('is false for the next segment of the same run', () => {
    expect(isDiscontinuity(undefined, prev)).toBe(false);
    expect(
      isDiscontinuity(prev, seg({ sequence: 1, start: '2026-01-01T00:00:02.100Z', firstPtsS: 3.4 })),
    ).toBe(false);
  });
  it('is true when the sequence skips, the PTS restarts, or the wall clock leaps', () => {
    const next = { start: '2026-01-01T00:00:02.000Z', firstPtsS: 3.4 };
    expect(isDiscontinuity(prev, seg({ ...next, sequence: 3 }))).toBe(true);
    expect(isDiscontinuity(prev, seg({ ...next, sequence: 1, firstPtsS: 1.4 }))).toBe(true);
    expect(isDiscontinuity(prev, seg({ ...next, sequence: 1, start: '2026-01-01T00:01:00.000Z' }))).toBe(
      true,
    );
  });
});

describe('renderPlaylist', () => {
  it('writes a live playlist: target duration, media and discontinuity sequence, tags per segment', () => {
    const text = renderPlaylist(
      {
        mediaSequence: 4,
        discontinuitySequence: 1,
        segments: [
          seg({ file: 'a.ts', duration: 2.5 }),
          seg({ file: 'b.ts', duration: null, start: null, discontinuity: true }),
        ],
      },
      (file) => `x/${file}`,
    );
    expect(text).toBe(
      [
        '#EXTM3U',
        '#EXT-X-VERSION:3',
        '#EXT-X-TARGETDURATION:10',
        '#EXT-X-MEDIA-SEQUENCE:4',
        '#EXT-X-DISCONTINUITY-SEQUENCE:1',
        '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z',
        '#EXTINF:2.500,',
        'x/a.ts',
        '#EXT-X-DISCONTINUITY',
        '#EXTINF:10.000,',
        'x/b.ts',
        '',
      ].join('\n'),
    );
  });
});

describe('the playlist a real server builds', () => {
  it('marks a relay restart as a discontinuity and plays through it with ffprobe and ffmpeg', {
    timeout: 60_000,
  }, async () => {
    const s = await ingest.start({ checkContent: true });
    const client = ingest.client();
    // Two ffmpeg runs (timestamps restart) with a sequence jump between them: a relay restart.
    const runs = [ffmpegSegments(3), ffmpegSegments(3)];
    const t0 = Date.parse('2026-03-01T12:00:00.000Z');
    let sequence = 0;
    for (const [r, segments] of runs.entries()) {
      for (const [i, body] of segments.entries()) {
        const start = new Date(t0 + (r * 10 + i) * 1000).toISOString();
        const headers = {
          'x-segment-sequence': String(sequence++),
          'x-segment-start': start,
          'x-segment-duration': '1',
          'idempotency-key': `cam-1:run${r}:${i}`,
        };
        expect((await client.ingest(s, body, { headers })).status).toBe(204);
      }
      sequence += 2;
    }
    const url = `${s.url}/viewer/cameras/cam-1/playlist.m3u8`;
    const res = await fetch(url, { headers: { 'x-api-key': TOKEN } });
    expect(res.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    const text = await res.text();
    expect(text).toMatch(/^#EXTM3U\n/);
    expect(text).toContain('#EXT-X-TARGETDURATION:1\n');
    expect(text.match(/#EXTINF:1\.000,/g)).toHaveLength(6);
    expect(text.match(/#EXT-X-DISCONTINUITY\n/g)).toHaveLength(1);
    expect(text).toContain('#EXT-X-PROGRAM-DATE-TIME:2026-03-01T12:00:10.000Z\n#EXTINF:1.000,\n000000005-');
    expect((await fetch(url)).status).toBe(401);

    // The live playlist never ends (players poll it); archive.m3u8 is the same, ended, to read whole.
    const archive = url.replace('playlist.m3u8', 'archive.m3u8');
    const ended = await (await fetch(archive, { headers: { 'x-api-key': TOKEN } })).text();
    expect(ended).toBe(
      `${text.replace('#EXT-X-DISCONTINUITY-SEQUENCE:0\n', '$&#EXT-X-PLAYLIST-TYPE:VOD\n')}#EXT-X-ENDLIST\n`,
    );
    const headers = `X-API-Key: ${TOKEN}\r\n`;
    const probe = await run('ffprobe', [
      ...['-v', 'error', '-headers', headers, '-count_frames', '-select_streams', 'v:0'],
      ...['-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', archive],
    ]);
    const stream = (JSON.parse(probe.stdout) as { streams: Array<Record<string, unknown>> }).streams[0];
    expect(stream).toMatchObject({ codec_name: 'h264' });
    expect(Number(stream?.nb_read_frames)).toBeGreaterThanOrEqual(55); // 6 s at 10 fps
    const decode = await run('ffmpeg', [
      '-v',
      'error',
      '-headers',
      headers,
      '-i',
      archive,
      '-f',
      'null',
      '-',
    ]);
    expect(decode.stderr).toBe('');
    // The live one plays too, from its first segment, for as long as asked.
    const live = await run('ffmpeg', [
      ...[
        '-v',
        'error',
        '-headers',
        headers,
        '-live_start_index',
        '0',
        '-i',
        url,
        '-t',
        '2',
        '-f',
        'null',
        '-',
      ],
    ]);
    expect(live.stderr).toBe('');
  });
});
