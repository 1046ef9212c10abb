import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { CAMERA_SCHEMA, type CameraEntry } from '../config/fleet-config.js';
import type { RelayFlags } from '../config/relay-config.js';
import { ConfigError } from '../errors.js';
import { DEMO_SETTINGS, type DemoFlags } from './demo-settings.js';
import { DISCOVER_SETTINGS, type DiscoverFlags } from './discover-settings.js';
import { INGEST_SERVER_SETTINGS, type IngestServerFlags } from './ingest-server-settings.js';
import { RELAY_SETTINGS } from './relay-settings.js';
import {
  ENV_PREFIX,
  envName,
  joinDashValues,
  type SettingSources,
  valueFlags,
  withSettings,
} from './settings.js';

/** What the command line asked for; `help` when --help or --version was printed instead. */
export type Invocation =
  | {
      readonly command: 'relay' | 'doctor';
      readonly flags: RelayFlags;
      /** The config file's `cameras:` list, when it has one. */
      readonly cameras?: readonly CameraEntry[] | undefined;
      /** The config file read, if any (SIGHUP reads it again). */
      readonly configFile?: string | undefined;
    }
  | { readonly command: 'ingest-server'; readonly flags: IngestServerFlags }
  | { readonly command: 'demo'; readonly flags: DemoFlags }
  | { readonly command: 'discover'; readonly flags: DiscoverFlags }
  | { readonly command: 'help' };

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const ENV_RULE = `Every flag can also be set as an environment variable named ${envName('flag-name')} (--segment-duration 4 is ${envName('segment-duration')}=4) or as a key of --config FILE (segment-duration: 4). Precedence: flags > environment > config file > defaults.`;

const SECRETS = `${envName('source')}=rtsp://user:pw@cam/stream ${envName('token')}=… trio-relay keeps the camera password and the key out of ps.`;

/** The relay's config file may list its cameras, each a mapping of CAMERA_SCHEMA's keys. */
const CAMERA_LISTS = { cameras: CAMERA_SCHEMA };

/** Every flag that takes a value, of any command: `--upload-timeout -5s` is read as one. */
const VALUE_FLAGS = valueFlags(RELAY_SETTINGS, INGEST_SERVER_SETTINGS, DEMO_SETTINGS, DISCOVER_SETTINGS);

const DURATIONS = 'Durations are seconds (30) or a number with a unit: 500ms, 30s, 5m, 1h, 2d.';

/**
 * Parse argv (with TRIO_* variables and --config FILE) into the command to run. Bad input
 * throws a ConfigError; `sources` learns what came from where, for error messages.
 */
export async function parseCommandLine(argv: string[], sources: SettingSources): Promise<Invocation> {
  let invocation: Invocation = { command: 'help' };
  await yargs(joinDashValues(argv, VALUE_FLAGS))
    .scriptName('trio-relay')
    .usage(
      '$0 [relay] --source URL --token T [options]\n\nRelay a camera feed as MPEG-TS segments to an HTTP ingest.',
    )
    .env(ENV_PREFIX)
    .command(
      ['relay', '$0'],
      'relay a camera to the cloud ingest (default)',
      (y) =>
        withSettings<RelayFlags>(y, RELAY_SETTINGS, sources, CAMERA_LISTS)
          .example(
            '$0 -s rtsp://cam/stream --token-file key.txt',
            'an RTSP camera, the API key read from a file',
          )
          .example(
            '$0 --host 192.168.1.10 --user admin --password-file pw.txt -t T',
            'an ONVIF camera: its RTSP URL asked of it, the password from a file (or TRIO_CAMERA_PASSWORD)',
          )
          .example('$0 -s ./clip.mp4 -t T', 'a file, read at its own speed, until it ends')
          .example('$0 -s /dev/video0 -r 1280x720 --fps 5 -t T', 'a V4L2 webcam (or -s 0)')
          .example('$0 -s testsrc --cloud http://127.0.0.1:8080', 'a test pattern to a local ingest-server')
          .example('$0 --config /etc/trio-relay.yaml', 'settings from a YAML or JSON file')
          .example(
            '$0 --config cameras.yaml',
            'many cameras: a cameras: list in the file (SIGHUP reloads it)',
          )
          .example('$0 demo', 'a synthetic camera and a local ingest: nothing else needed')
          .epilogue(`${ENV_RULE}\n\n${SECRETS}\n\n${DURATIONS}`),
      (args) => {
        invocation = {
          command: 'relay',
          flags: sources.keepHigher(args, 'token', 'token-file'),
          cameras: sources.list('cameras'),
          configFile: sources.filePath,
        };
      },
    )
    .command(
      'doctor',
      "check ffmpeg, the camera, the ingest, TLS, the API key, the spool and the clock (the relay's flags)",
      (y) =>
        withSettings<RelayFlags>(y, RELAY_SETTINGS, sources, CAMERA_LISTS)
          .example(
            '$0 doctor -s rtsp://cam/stream --token-file key.txt',
            'the same command line as the relay, with doctor in front: a checklist, exit 0 when all pass',
          )
          .epilogue(ENV_RULE),
      (args) => {
        invocation = {
          command: 'doctor',
          flags: sources.keepHigher(args, 'token', 'token-file'),
          cameras: sources.list('cameras'),
          configFile: sources.filePath,
        };
      },
    )
    .command(
      'ingest-server',
      'run a local ingest that stores what it receives',
      (y) =>
        withSettings<IngestServerFlags>(y, INGEST_SERVER_SETTINGS)
          .example('$0 ingest-server --out ./trio-ingest --token T', 'on port 8080, requiring the key T')
          .example(
            '$0 ingest-server --fault 503x5 --fault down:30s',
            'a flaky cloud: 5 × 503, then down 30 s',
          )
          .epilogue(`Each flag is also ${envName('flag-name')} (e.g. ${envName('token')}).\n\n${DURATIONS}`),
      (args) => {
        invocation = { command: 'ingest-server', flags: sources.keepHigher(args, 'token', 'token-file') };
      },
    )
    .command(
      'demo',
      'start a local ingest and relay a synthetic test pattern to it',
      (y) =>
        withSettings<DemoFlags>(y, DEMO_SETTINGS)
          .example('$0 demo', 'relay for 20 s, then print what was sent and received')
          .example('$0 demo --duration 1m --out ./demo-ingest', 'longer, keeping what arrived')
          .epilogue(
            `Each flag is also ${envName('flag-name')} (e.g. ${envName('duration')}).\n\n${DURATIONS}`,
          ),
      (args) => {
        invocation = { command: 'demo', flags: args };
      },
    )
    .command(
      'discover',
      'list the ONVIF cameras that answer a WS-Discovery probe on the local network',
      (y) =>
        withSettings<DiscoverFlags>(y, DISCOVER_SETTINGS)
          .example(
            '$0 discover',
            'address, model, name and whether credentials are needed, for 3 s of answers',
          )
          .example(
            '$0 discover --discover-address 10.0.0.5:3702 --json',
            'ask one device by unicast (no multicast on this network), as JSON',
          )
          .epilogue(
            `Each flag is also ${envName('flag-name')} (e.g. ${envName('timeout')}).\n\n${DURATIONS}`,
          ),
      (args) => {
        invocation = { command: 'discover', flags: args };
      },
    )
    .strict()
    .help()
    .alias('help', 'h')
    .version('version', 'print the version and exit', VERSION)
    .alias('version', 'V')
    .exitProcess(false)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .fail((message, error) => {
      throw sources.fileError ?? error ?? new ConfigError(message);
    })
    .parseAsync();
  return invocation;
}
