import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, startCli } from '../helpers/cli.js';
import { startTestIngest } from '../helpers/ingest.js';
import { newSpoolDir, type RelayEvent, TOKEN } from '../helpers/relay-run.js';
import { tempDir } from '../helpers/temp-dir.js';

/** Debian's chromium (test/scripts/ensure-test-deps.mjs installs it); playwright-core drives it. */
const CHROMIUM = '/usr/bin/chromium';
/** Where the screenshot goes: the test output, never the repo's tracked files. */
const OUTPUT = fileURLToPath(new URL('../output/', import.meta.url));

let browser: Browser | undefined;
afterAll(async () => {
  killAllClis();
  await browser?.close();
});

describe('the ingest viewer page in a real browser', () => {
  it('lists the camera, plays its video, and shows a gap that an ingest outage forced', {
    timeout: 150_000,
  }, async () => {
    const ingest = await startTestIngest();
    const camera = 'viewer-cam';
    // 1280x720 testsrc2 makes ~200 KB per 1 s segment: a 1 MB spool overflows within seconds of
    // an outage, so the relay evicts segments and declares them (X-Segment-Gap) afterwards.
    const relay = startCli([
      ...['--source', 'testsrc2', '--cloud', ingest.url, '--token', TOKEN, '--spool-dir', newSpoolDir()],
      ...['--segment-duration', '1', '--fps', '10', '--resolution', '1280x720', '--max-spool-mb', '1'],
      ...['--upload-timeout', '2s', '--retry-base', '200ms', '--retry-max', '1s', '--camera-id', camera],
      '--json',
    ]);
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--autoplay-policy=no-user-gesture-required', '--no-sandbox'],
      });
      const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await ingest.waitFor((s) => s.accepted >= 3, 40_000);
      // The key rides in the fragment: the browser never sends it, the page passes it as X-API-Key.
      await page.goto(`${ingest.url}/#key=${TOKEN}`);
      const section = page.locator(`section[data-camera="${camera}"]`);
      await section.waitFor({ timeout: 15_000 });

      // It plays: the video's clock moves on by two seconds.
      const video = section.locator('video');
      await video.evaluate(
        (v: { currentTime: number }) =>
          new Promise<void>((resolve) => {
            let first: number | undefined;
            const check = () => {
              if (v.currentTime > 0) first ??= v.currentTime;
              if (first !== undefined && v.currentTime >= first + 2) resolve();
              else setTimeout(check, 200);
            };
            check();
          }),
        undefined,
        { timeout: 30_000 },
      );

      // An outage: the spool overflows, the oldest pending segments are evicted, and once the
      // ingest is back the relay declares them on the next segment it sends.
      await ingest.faults.down();
      await relay.waitFor(
        () => (relay.events() as RelayEvent[]).some((e) => e.type === 'segment' && e.phase === 'evicted'),
        40_000,
        'an eviction while the ingest is down',
      );
      await ingest.faults.up();
      await ingest.waitFor(
        () => ingest.accepted(camera).some((row) => Array.isArray(row.gap) && row.gap.length > 0),
        40_000,
      );
      const declared = section.locator('.strip .run.declared');
      await declared.first().waitFor({ timeout: 15_000 });
      expect(await declared.first().getAttribute('title')).toMatch(/lost, declared: evicted/);
      expect(await section.locator('.gaps li.declared').first().textContent()).toMatch(/evicted/);
      expect(await section.locator('tbody tr').count()).toBeGreaterThan(0);
      expect(await section.locator('.codec-note').isHidden()).toBe(true);
      expect(errors).toEqual([]);

      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, 'viewer.png'), fullPage: true });
    } finally {
      relay.kill('SIGKILL');
      await ingest.close();
    }
  });

  it("says so when the browser cannot play the camera's codec (H.265 in Chromium), rather than stay black", {
    timeout: 60_000,
  }, async () => {
    const ingest = await startTestIngest();
    try {
      // Three 1 s H.265 segments, as a camera relayed with --codec copy sends them.
      const dir = tempDir('e2e-hevc-');
      execFileSync('ffmpeg', [
        ...[
          '-hide_banner',
          '-loglevel',
          'error',
          '-f',
          'lavfi',
          '-i',
          'testsrc2=size=320x240:rate=10',
          '-t',
          '3',
        ],
        ...[
          '-c:v',
          'libx265',
          '-x265-params',
          'log-level=error:keyint=10',
          '-f',
          'segment',
          '-segment_time',
          '1',
        ],
        join(dir, 'seg-%03d.ts'),
      ]);
      const camera = 'hevc-cam';
      for (const [i, name] of readdirSync(dir).sort().entries()) {
        const res = await fetch(`${ingest.url}/api/stream/ingest/${camera}`, {
          method: 'POST',
          headers: {
            'x-api-key': TOKEN,
            'content-type': 'video/mp2t',
            'x-segment-sequence': String(i),
            'idempotency-key': `${camera}:${i}`,
          },
          body: readFileSync(join(dir, name)),
        });
        expect(res.status).toBeLessThan(300);
      }
      browser ??= await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${ingest.url}/#key=${TOKEN}`);
      // Debian's Chromium decodes no HEVC: what the page's check asks, the browser itself answers no.
      expect(
        await page.evaluate(
          // The browser's global (test code is typed without the DOM library).
          () =>
            (
              globalThis as unknown as { MediaSource: { isTypeSupported(t: string): boolean } }
            ).MediaSource.isTypeSupported('video/mp4; codecs="hvc1.1.6.L93.B0"'),
        ),
      ).toBe(false);
      const note = page.locator(`section[data-camera="${camera}"] .codec-note`);
      await note.waitFor({ state: 'visible', timeout: 15_000 });
      expect(await note.textContent()).toMatch(/cannot play H\.265 \(HEVC\) video.*--codec h264/);
      expect(await page.locator(`section[data-camera="${camera}"] video`).isHidden()).toBe(true);
      expect(errors).toEqual([]);
      mkdirSync(OUTPUT, { recursive: true });
      await page.screenshot({ path: join(OUTPUT, 'viewer-hevc.png'), fullPage: true });
    } finally {
      await ingest.close();
    }
  });
});
