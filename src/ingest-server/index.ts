/** The local ingest's public surface: the server, its fault injection, and the ledger's shape. */
export {
  type FaultAction,
  FaultInjector,
  type FaultRule,
  FaultSpecError,
  formatFaultRule,
  parseFaultSpec,
} from './faults.js';
export type { GapField, GapInfo, LedgerEntry } from './ledger.js';
export { DEFAULT_MAX_BODY_BYTES } from './options.js';
export { parseGapHeader } from './segment-headers.js';
export {
  IngestExposedError,
  IngestServer,
  type IngestServerEvents,
  type IngestServerOptions,
  type IngestStats,
  IngestWaitTimeoutError,
  type ServedRequest,
} from './server.js';
