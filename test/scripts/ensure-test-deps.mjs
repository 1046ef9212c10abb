#!/usr/bin/env node
// `npm test` runs this first: the end-to-end suite needs a real RTSP camera (Debian's
// gst-rtsp-server through /usr/bin/python3) and Debian's ffmpeg/ffprobe; the deploy tests need
// systemd-analyze (Debian's systemd package) to verify the unit under docker/, and the viewer test
// Debian's chromium (/usr/bin/chromium, driven by playwright-core), the Prometheus tests Debian's
// prometheus (/usr/bin/prometheus and /usr/bin/promtool), the proxy tests Debian's tinyproxy, the
// clock-jump test Debian's libfaketime (package faketime). As
// root with apt-get it installs what is missing; otherwise it fails naming the packages. It never lets the suite skip
// silently. Env: TRIO_TEST_DEPS_PYTHON (another interpreter to check, e.g. /nonexistent to
// simulate a missing one; never installed for), TRIO_TEST_DEPS_NO_INSTALL=1 (check only).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const PACKAGES = [
  'python3-gi',
  'gir1.2-gst-rtsp-server-1.0',
  'gstreamer1.0-plugins-base',
  'gstreamer1.0-plugins-good',
  'gstreamer1.0-plugins-ugly',
  // voaacenc: the AAC microphone of the audio camera (--audio aac in rtsp-camera.py).
  'gstreamer1.0-plugins-bad',
  'ffmpeg',
  'systemd',
  'chromium',
  'prometheus',
  'tinyproxy',
  // libfaketime: the wall clock jumps for the relay alone (test/e2e/clock-jump.e2e.test.ts).
  'faketime',
];
const CHROMIUM = '/usr/bin/chromium';
/** Debian's libfaketime, under the machine's multiarch dir (test/helpers/faketime.ts finds it the same way). */
const libfaketime = () =>
  readdirSync('/usr/lib')
    .map((dir) => `/usr/lib/${dir}/faketime/libfaketime.so.1`)
    .find((path) => existsSync(path));
const DEFAULT_PYTHON = '/usr/bin/python3';
const PYTHON = process.env.TRIO_TEST_DEPS_PYTHON || DEFAULT_PYTHON;
/** Every element test/helpers/rtsp-camera.py builds. */
const ELEMENTS = [
  ...['videotestsrc', 'capsfilter', 'x264enc', 'valve', 'rtph264pay'],
  ...['audiotestsrc', 'audioconvert', 'audioresample', 'voaacenc', 'aacparse', 'rtpmp4gpay'],
  ...['alawenc', 'mulawenc', 'rtppcmapay', 'rtppcmupay'],
];
const CHECK = `
import gi
gi.require_version('Gst', '1.0')
gi.require_version('GstRtspServer', '1.0')
from gi.repository import Gst, GstRtspServer
Gst.init(None)
missing = [e for e in ${JSON.stringify(ELEMENTS)} if Gst.ElementFactory.find(e) is None]
if missing:
    raise SystemExit('missing GStreamer elements: ' + ', '.join(missing))
`;
const INSTALL = `apt-get install -y --no-install-recommends ${PACKAGES.join(' ')}`;

/** What is missing, one phrase each; empty when the end-to-end tests can run. */
function problems() {
  const found = [];
  if (!existsSync(PYTHON)) found.push(`${PYTHON} not found`);
  else {
    const python = spawnSync(PYTHON, ['-c', CHECK], { encoding: 'utf8' });
    if (python.error) found.push(`${PYTHON}: ${python.error.message}`);
    else if (python.status !== 0) {
      found.push(`${PYTHON}: ${(python.stderr || python.stdout).trim().split('\n').at(-1)}`);
    }
  }
  for (const [tool, flag] of [
    ['ffprobe', '-version'],
    ['ffmpeg', '-version'],
    ['systemd-analyze', '--version'],
    ['/usr/bin/prometheus', '--version'],
    ['/usr/bin/promtool', '--version'],
    ['tinyproxy', '-v'],
  ]) {
    const run = spawnSync(tool, [flag], { encoding: 'utf8' });
    if (run.error || run.status !== 0)
      found.push(`${tool} ${tool.startsWith('/') ? 'not found or not working' : 'not on PATH'}`);
  }
  if (!libfaketime()) found.push('/usr/lib/<arch>/faketime/libfaketime.so.1 not found');
  const chromium = existsSync(CHROMIUM) && spawnSync(CHROMIUM, ['--version'], { encoding: 'utf8' });
  if (!chromium || chromium.error || chromium.status !== 0)
    found.push(`${CHROMIUM} not found or not working`);
  return found;
}

let missing = problems();
if (missing.length === 0) process.exit(0);

const canInstall =
  !process.env.TRIO_TEST_DEPS_NO_INSTALL &&
  PYTHON === DEFAULT_PYTHON &&
  process.getuid?.() === 0 &&
  spawnSync('apt-get', ['--version']).status === 0;
if (!canInstall) {
  console.error(`The end-to-end tests need Debian packages that are missing (${missing.join('; ')}).`);
  console.error(`Packages: ${PACKAGES.join(' ')}`);
  console.error(`Install them as root, then run npm test again:\n  apt-get update && ${INSTALL}`);
  process.exit(1);
}

console.error(`Installing the end-to-end test packages (${missing.join('; ')}):\n  ${INSTALL}`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
for (const args of [['update'], ['install', '-y', '--no-install-recommends', ...PACKAGES]]) {
  // stdout too goes to stderr: npm shows both, and this script's stdout stays clean.
  const run = spawnSync('apt-get', args, { stdio: ['ignore', 2, 2], env });
  if (run.status !== 0) {
    console.error(
      `apt-get ${args[0]} failed (${run.error?.message ?? `exit ${run.status}`}); install by hand:`,
    );
    console.error(`  apt-get update && ${INSTALL}`);
    process.exit(1);
  }
}
missing = problems();
if (missing.length > 0) {
  console.error(`Still missing after installing ${PACKAGES.join(' ')}: ${missing.join('; ')}`);
  process.exit(1);
}
console.error('End-to-end test packages installed.');
