import { describe, expect, it } from 'vitest';
import { parseGapHeader, readSegmentHeaders } from '../../src/ingest-server/segment-headers.js';
import { TOKEN, useIngest } from './fixtures/ingest.js';

const ingest = useIngest();

describe('parseGapHeader', () => {
  it('reads one gap', () => {
    expect(
      parseGapHeader(
        'seq=12-14; start=2026-11-22T10:00:00.000Z; end=2026-11-22T10:00:06.000Z; reason=evicted',
      ),
    ).toEqual([
      {
        seq_from: 12,
        seq_to: 14,
        start: '2026-11-22T10:00:00.000Z',
        end: '2026-11-22T10:00:06.000Z',
        reason: 'evicted',
      },
    ]);
  });

  it('reads several gaps joined by ", ", and a single sequence', () => {
    const value =
      'seq=3-4; start=2026-11-22T09:00:00.000Z; end=2026-11-22T09:00:04.000Z; reason=evicted, ' +
      'seq=9; start=2026-11-22T09:00:18.000Z; end=2026-11-22T09:00:20.000Z; reason=rejected,seq=11-11; reason=stale';
    expect(parseGapHeader(value)).toEqual([
      {
        seq_from: 3,
        seq_to: 4,
        start: '2026-11-22T09:00:00.000Z',
        end: '2026-11-22T09:00:04.000Z',
        reason: 'evicted',
      },
      {
        seq_from: 9,
        seq_to: 9,
        start: '2026-11-22T09:00:18.000Z',
        end: '2026-11-22T09:00:20.000Z',
        reason: 'rejected',
      },
      { seq_from: 11, seq_to: 11, start: '', end: '', reason: 'stale' },
    ]);
  });

  it('is null when absent or blank', () => {
    expect(parseGapHeader(undefined)).toBeNull();
    expect(parseGapHeader('  ')).toBeNull();
  });

  it.each(['lost some', 'seq=a-b; reason=evicted', 'seq=3-4; start=x', 'seq=3-4; reason=evicted, garbage'])(
    'keeps %j raw when it does not parse',
    (value) => {
      expect(parseGapHeader(value)).toEqual({ raw: value });
    },
  );
});

describe('readSegmentHeaders', () => {
  it('reads the ordering and de-duplication headers', () => {
    expect(
      readSegmentHeaders({
        'idempotency-key': 'cam:run:7',
        'x-segment-sequence': '7',
        'x-segment-start': '2026-11-22T10:00:00.000Z',
        'x-segment-duration': '2.002',
        'x-segment-clock-jump': '-3.5',
      }),
    ).toEqual({
      idempotency_key: 'cam:run:7',
      sequence: 7,
      start: '2026-11-22T10:00:00.000Z',
      duration: 2.002,
      gap: null,
      clock_jump: -3.5,
    });
  });

  it('turns missing or malformed values into null', () => {
    expect(readSegmentHeaders({})).toEqual({
      idempotency_key: null,
      sequence: null,
      start: null,
      duration: null,
      gap: null,
      clock_jump: null,
    });
    for (const bad of ['-1', '1.5', 'seven', '', '1e30']) {
      expect(readSegmentHeaders({ 'x-segment-sequence': bad }).sequence, bad).toBeNull();
    }
    expect(readSegmentHeaders({ 'x-segment-duration': 'long', 'idempotency-key': '' })).toMatchObject({
      duration: null,
      idempotency_key: null,
    });
  });
});

describe('X-Segment-Duration (issue 22): only a duration a playlist can carry', () => {
  it.each(['-5', '0', '-0', 'Infinity', 'NaN', '1e9', '3600.5'])('%j is unknown (null)', (value) => {
    expect(readSegmentHeaders({ 'x-segment-duration': value }).duration).toBeNull();
  });

  it.each([
    ['0.04', 0.04],
    ['600', 600],
    ['3600', 3600],
  ])('%j is kept', (value, seconds) => {
    expect(readSegmentHeaders({ 'x-segment-duration': value }).duration).toBe(seconds);
  });

  it('a real server never serves a negative or absurd #EXTINF', async () => {
    const s = await ingest.start();
    const client = ingest.client();
    for (const [i, duration] of ['-5', '1e9', '2'].entries()) {
      const headers = {
        'x-segment-sequence': String(i),
        'x-segment-start': new Date(Date.parse('2026-03-01T12:00:00.000Z') + i * 2000).toISOString(),
        'x-segment-duration': duration,
        'idempotency-key': `cam-1:run:${i}`,
      };
      expect((await client.ingest(s, `segment ${i}`, { headers })).status).toBe(204);
    }
    const url = `${s.url}/viewer/cameras/cam-1/playlist.m3u8`;
    const text = await (await fetch(url, { headers: { 'x-api-key': TOKEN } })).text();
    expect(text.match(/^#EXTINF:.*$/gm)).toEqual(['#EXTINF:10.000,', '#EXTINF:10.000,', '#EXTINF:2.000,']);
    expect(text).toContain('#EXT-X-TARGETDURATION:10\n');
  });
});
