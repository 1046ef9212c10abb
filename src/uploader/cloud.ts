import { registerSecret } from '../redact.js';
import type { GapRecord, SegmentRecord } from '../spool/journal.js';
import { formatGapHeader } from '../spool/losses.js';
import type { SourceKind } from '../types.js';
import type { OutgoingRequest, Pace } from './transport.js';

/** Requests of the cloud contract (compatible with the Python relay), built as plain data. */
export class CloudApi {
  readonly #base: string;
  readonly #token: string;
  readonly #cameraId: string;

  constructor(cloud: string, token: string, cameraId: string) {
    this.#base = cloud.replace(/\/+$/, '');
    this.#token = token;
    // Whoever holds the key makes sure nothing prints it, whichever way it was configured.
    registerSecret(token);
    this.#cameraId = cameraId;
  }

  get ingestUrl(): string {
    return `${this.#base}/api/stream/ingest/${encodeURIComponent(this.#cameraId)}`;
  }

  /** Never carries the source URL: it may hold the camera's credentials. */
  register(name: string, sourceType: SourceKind, timeoutMs: number): OutgoingRequest {
    return {
      method: 'POST',
      url: `${this.#base}/api/cameras`,
      headers: this.#auth(),
      body: {
        json: {
          id: this.#cameraId,
          name,
          source_url: '',
          metadata: { managed_by: 'trio-edge', ingest_transport: 'http_mpegts', source_type: sourceType },
        },
      },
      timeoutMs,
    };
  }

  ingest(
    record: SegmentRecord,
    file: string,
    gaps: readonly GapRecord[],
    timeoutMs: number,
    signal?: AbortSignal,
    pace?: Pace,
  ): OutgoingRequest {
    const headers: Record<string, string> = {
      ...this.#auth(),
      'content-type': 'video/mp2t',
      'idempotency-key': record.idempotencyKey,
      'x-segment-sequence': String(record.sequence),
      'x-segment-start': record.start,
      'x-segment-duration': String(record.durationS),
    };
    if (gaps.length > 0) headers['x-segment-gap'] = formatGapHeader(gaps);
    if (record.clockJumpS !== undefined) headers['x-segment-clock-jump'] = String(record.clockJumpS);
    return {
      method: 'POST',
      url: this.ingestUrl,
      headers,
      body: { file, bytes: record.bytes, pace },
      timeoutMs,
      signal,
    };
  }

  /**
   * Is the ingest serving? A HEAD on the ingest path costs it next to nothing while the relay
   * waits out an outage. It carries the key, so an ingest that checks keys first judges it as it
   * would a segment; any answer but a 5xx means it is back (retry-pacer.ts).
   */
  probe(timeoutMs: number, signal?: AbortSignal): OutgoingRequest {
    return {
      method: 'HEAD',
      url: this.ingestUrl,
      headers: this.#auth(),
      timeoutMs,
      signal,
    };
  }

  endSession(timeoutMs: number): OutgoingRequest {
    return { method: 'DELETE', url: this.ingestUrl, headers: this.#auth(), timeoutMs };
  }

  #auth(): Record<string, string> {
    return { 'x-api-key': this.#token, 'user-agent': 'trio-relay' };
  }
}
