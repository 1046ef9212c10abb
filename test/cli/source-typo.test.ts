import { afterAll, describe, expect, it } from 'vitest';
import { killAllClis, runCli } from '../helpers/cli.js';
import { newSpoolDir } from '../helpers/relay-run.js';

/**
 * A mistyped camera URL (a slash missing, no scheme at all) is no URL: it is taken for a file
 * path and refused. The exit-2 line must still not quote its password, from the flag or
 * TRIO_SOURCE, as text or NDJSON.
 */
afterAll(killAllClis);

const PASSWORD = 'p@ss:w%rd #/é✓x';

/** Every piece of the password that would give it away. */
function pieces(password: string): string[] {
  return [password, encodeURIComponent(password), ...password.split(/[@:#/ ]/).filter((p) => p.length >= 3)];
}

const cases: Array<[string, string, string]> = [
  ['one slash missing', `rtsp:/admin:${PASSWORD}@host/cam`, 'rtsp:/***@host/cam'],
  ['two slashes, no colon', 'rtsp//admin:s3cret-pw@host/cam', 'rtsp//***@host/cam'],
  ['no slash', 'rtsp:admin:s3cret-pw@host/cam', 'rtsp:***@host/cam'],
  ['no scheme', 'admin:s3cret-pw@cam/stream1', '***@cam/stream1'],
];

describe('a mistyped --source with credentials', () => {
  it.each(cases)('%s: exit 2, the userinfo masked', async (_what, source, shown) => {
    const password = source.includes(PASSWORD) ? PASSWORD : 's3cret-pw';
    const runs = [
      await runCli(['--source', source, '--token', 'tok-1234', '--spool-dir', newSpoolDir()], {
        timeoutMs: 20_000,
      }),
      await runCli(['--token', 'tok-1234', '--spool-dir', newSpoolDir(), '--json'], {
        timeoutMs: 20_000,
        env: { TRIO_SOURCE: source },
      }),
    ];
    for (const result of runs) {
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(`--source ${shown}: cannot read the file (no such file or directory)`);
      for (const piece of pieces(password)) expect(result.stderr, piece).not.toContain(piece);
    }
    expect(runs[1]!.stderr).toContain('(from TRIO_SOURCE)');
  });

  it('a path without credentials is quoted as it is', async () => {
    const result = await runCli(['--source', '/nonexistent/clip@2x.mp4', '--token', 'tok-1234'], {
      timeoutMs: 20_000,
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe(
      'trio-relay: --source /nonexistent/clip@2x.mp4: cannot read the file (no such file or directory)',
    );
  });
});
