import type { SettingsTable } from './settings.js';

/** Raw flags (and TRIO_* variables) as yargs hands them over, before validation. */
export interface DemoFlags {
  duration?: number | string;
  out?: string | undefined;
  ffmpeg?: string | undefined;
}

export const DEMO_DEFAULTS = { duration: 20 } as const;

/** `trio-relay demo`'s settings (flags and TRIO_* variables): see src/cli/settings.ts. */
export const DEMO_SETTINGS = {
  duration: { type: 'duration', describe: 'how long to relay', default: `${DEMO_DEFAULTS.duration}s` },
  out: { type: 'string', describe: 'folder for what the ingest receives', default: 'a temp dir' },
  ffmpeg: { type: 'string', describe: 'ffmpeg binary', default: 'FFMPEG_PATH, PATH, then the bundled one' },
} as const satisfies SettingsTable<DemoFlags>;
