import { WS_DISCOVERY_TARGET } from '../onvif/defaults.js';
import type { SettingsTable } from './settings.js';

/** Raw flags (and TRIO_* variables) of `trio-relay discover`, before validation. */
export interface DiscoverFlags {
  timeout?: number | string;
  json?: boolean;
  discoverAddress?: string;
}

export const DISCOVER_DEFAULTS = { timeout: '3s' } as const;

/** `trio-relay discover`'s settings: see src/cli/settings.ts. */
export const DISCOVER_SETTINGS = {
  timeout: {
    type: 'duration',
    describe: 'how long to wait for answers',
    default: DISCOVER_DEFAULTS.timeout,
  },
  json: { type: 'boolean', describe: 'one JSON object on stdout instead of a table' },
  'discover-address': {
    type: 'string',
    describe: 'where the WS-Discovery probe goes: a unicast ADDRESS:PORT where multicast does not pass',
    default: `${WS_DISCOVERY_TARGET.address}:${WS_DISCOVERY_TARGET.port}`,
  },
} as const satisfies SettingsTable<DiscoverFlags>;
