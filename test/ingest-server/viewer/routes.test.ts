import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TOKEN, useIngest } from '../fixtures/ingest.js';

const ingest = useIngest();
const SEGMENT = readFileSync(new URL('../../camera/fixtures/two-frames.m2t', import.meta.url));

interface CameraJson {
  id: string;
  name: string | null;
  segments: number;
  counts: Record<string, number>;
  timeline: Array<{ kind: string; reason?: string }>;
  recent: Array<{ event: string }>;
  codecs: { video: string | null; audio: string | null } | null;
}

describe('the viewer routes', () => {
  it('serve the page and its scripts to anyone, the data only with the key', async () => {
    const s = await ingest.start();
    for (const [path, type] of [
      ['/', 'text/html; charset=utf-8'],
      ['/viewer/app.js', 'text/javascript; charset=utf-8'],
      ['/viewer/style.css', 'text/css; charset=utf-8'],
      ['/viewer/hls.js', 'text/javascript; charset=utf-8'],
    ] as const) {
      const res = await fetch(`${s.url}${path}`);
      expect([path, res.status, res.headers.get('content-type')]).toEqual([path, 200, type]);
      expect((await res.text()).length).toBeGreaterThan(100);
    }
    // The page script is a string in assets.ts: nothing else checks that it is valid JavaScript.
    const script = await (await fetch(`${s.url}/viewer/app.js`)).text();
    expect(() => new Function(script)).not.toThrow();
    const page = await (await fetch(s.url)).text();
    expect(page).not.toMatch(/https?:\/\//); // every asset from the ingest itself: works offline
    for (const path of ['/viewer/api/cameras', '/viewer/cameras/cam-1/playlist.m3u8']) {
      expect((await fetch(`${s.url}${path}`)).status).toBe(401);
    }
    // Viewer requests are not the contract's: not counted, not logged.
    expect(s.stats().rejected).toBe(0);
    expect(ingest.lines).toEqual([]);
  });

  it('list every camera with its name, counts, timeline and rows; serve only stored segments', async () => {
    const s = await ingest.start({ checkContent: true });
    const client = ingest.client();
    await client.register(s, JSON.stringify({ id: 'cam-a', name: 'Front door' }));
    const post = (camera: string, seq: number, gap?: string) =>
      client.ingest(s, SEGMENT, {
        camera,
        headers: {
          'x-segment-sequence': String(seq),
          'idempotency-key': `${camera}:${seq}`,
          ...(gap ? { 'x-segment-gap': gap } : {}),
        },
      });
    await post('cam-a', 0);
    await post('cam-a', 3, 'seq=1-2; start=x; end=y; reason=evicted');
    await post('cam-a', 3);
    await post('cam-b', 7);
    const res = await fetch(`${s.url}/viewer/api/cameras`, { headers: { 'x-api-key': TOKEN } });
    const { cameras } = (await res.json()) as { cameras: CameraJson[] };
    expect(cameras.map((c) => [c.id, c.name, c.segments])).toEqual([
      ['cam-a', 'Front door', 2],
      ['cam-b', null, 1],
    ]);
    const a = cameras[0]!;
    expect(a.counts).toMatchObject({ accepted: 2, duplicate: 1 });
    expect(a.timeline.map((r) => [r.kind, r.reason])).toEqual([
      ['received', undefined],
      ['declared', 'evicted'],
      ['received', undefined],
    ]);
    expect(a.recent.map((r) => r.event)).toEqual(['register', 'segment', 'segment', 'segment']);
    // Read from the newest stored segment's PMT, so the page can tell whether it can play it.
    expect(a.codecs).toEqual({ video: 'h264', audio: null });

    const playlist = await (
      await fetch(`${s.url}/viewer/cameras/cam-a/playlist.m3u8`, { headers: { 'x-api-key': TOKEN } })
    ).text();
    const file = playlist.split('\n').find((line) => line.endsWith('.ts'))!;
    const segment = await fetch(`${s.url}/viewer/cameras/cam-a/${file}`, { headers: { 'x-api-key': TOKEN } });
    expect([segment.status, segment.headers.get('content-type')]).toEqual([200, 'video/mp2t']);
    expect(Buffer.from(await segment.arrayBuffer()).equals(SEGMENT)).toBe(true);
    for (const path of ['cam-a/ledger.jsonl', 'cam-a/camera.json', `cam-b/${file}`, `..%2Fcam-a/${file}`]) {
      const other = await fetch(`${s.url}/viewer/cameras/${path}`, { headers: { 'x-api-key': TOKEN } });
      expect([path, other.status]).toEqual([path, 404]);
    }
  });
});
