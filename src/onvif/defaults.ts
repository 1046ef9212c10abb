/**
 * ONVIF's fixed numbers, apart from the client: the CLI's option table shows them without
 * loading the client (and its XML parser) on every relay start.
 */

/** The ONVIF port when none is given: most cameras serve ONVIF on HTTP's own. */
export const DEFAULT_ONVIF_PORT = 80;
/** The whole resolution's deadline when none is given (four short SOAP calls). */
export const DEFAULT_ONVIF_TIMEOUT_MS = 10_000;

export interface DiscoveryTarget {
  readonly address: string;
  readonly port: number;
}

/** WS-Discovery's well-known multicast group and port, where ONVIF devices listen for probes. */
export const WS_DISCOVERY_TARGET: DiscoveryTarget = { address: '239.255.255.250', port: 3702 };
