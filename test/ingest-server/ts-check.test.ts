import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readTsCodecs, TS_PACKET, TsChecker } from '../../src/ingest-server/ts-check.js';

const segment = readFileSync(new URL('../camera/fixtures/two-frames.m2t', import.meta.url));

function check(body: Buffer, chunk = body.length): TsChecker {
  const checker = new TsChecker();
  for (let at = 0; at < body.length; at += chunk) checker.push(body.subarray(at, at + chunk));
  return checker;
}

describe('TsChecker (the MPEG-TS content check)', () => {
  it('accepts a real segment, whatever the chunking, and reads its first PTS', () => {
    const whole = check(segment);
    expect(whole.valid).toBe(true);
    expect(whole.firstPtsS).toEqual(expect.any(Number));
    for (const chunk of [1, 7, 187, 189, 4096]) {
      const chunked = check(segment, chunk);
      expect([chunked.valid, chunked.firstPtsS], `chunks of ${chunk}`).toEqual([true, whole.firstPtsS]);
    }
  });

  it('refuses zeros, text and a shifted stream at the first packet that lacks its sync byte', () => {
    expect(check(Buffer.alloc(1024 * 1024)).valid).toBe(false);
    expect(check(Buffer.from('segment 0'.repeat(100))).valid).toBe(false);
    expect(check(Buffer.concat([Buffer.from([0]), segment])).valid).toBe(false);
    const late = Buffer.from(segment);
    late[TS_PACKET * 3] = 0;
    const checker = new TsChecker();
    expect(checker.push(late.subarray(0, TS_PACKET * 3))).toBe(true);
    expect(checker.push(late.subarray(TS_PACKET * 3))).toBe(false);
  });

  it('tolerates a torn last packet (a salvaged segment) but wants one whole packet', () => {
    expect(check(segment.subarray(0, segment.length - 100)).valid).toBe(true);
    expect(check(segment.subarray(0, 100)).valid).toBe(false);
    expect(check(Buffer.alloc(0)).valid).toBe(false);
  });
});

/** One second of MPEG-TS made by Debian's ffmpeg with these codec flags. */
function encoded(...codecArgs: string[]): Buffer {
  const input = [
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=160x120:rate=5',
    '-f',
    'lavfi',
    '-i',
    'sine=sample_rate=8000',
  ];
  return execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', ...input, '-t', '1'],
    ...codecArgs,
    ...['-f', 'mpegts', 'pipe:1'],
  ]);
}

describe('readTsCodecs (the codecs a segment carries, from its PMT)', () => {
  it('tells H.264 from H.265, with or without audio, from the first packets alone', () => {
    expect(readTsCodecs(segment)).toEqual({ video: 'h264', audio: null });
    const hevc = encoded('-c:v', 'libx265', '-x265-params', 'log-level=error', '-c:a', 'aac');
    expect(readTsCodecs(hevc.subarray(0, 8 * TS_PACKET))).toEqual({ video: 'h265', audio: 'aac' });
    const avc = encoded('-c:v', 'libx264', '-an');
    expect(readTsCodecs(avc)).toEqual({ video: 'h264', audio: null });
  });

  it('says null for what holds no PMT', () => {
    expect(readTsCodecs(Buffer.alloc(4 * TS_PACKET))).toBeNull();
    expect(readTsCodecs(segment.subarray(0, 1))).toBeNull();
  });
});
