import type { Emit } from '../telemetry/events.js';
import type { GapRecord } from './journal.js';
import { LossLedger } from './losses.js';

/**
 * The holes of one camera's timeline not yet announced to the cloud, and the loss ledger every
 * one of them is written to. No journal: the spool persists `list` with each change.
 */
export class GapBook {
  #gaps: GapRecord[];
  readonly #ledger: LossLedger;
  readonly #emit: Emit;

  constructor(root: string, cameraId: string, carried: readonly GapRecord[], emit: Emit) {
    this.#gaps = [...carried];
    this.#ledger = new LossLedger(root, cameraId);
    this.#emit = emit;
  }

  get list(): readonly GapRecord[] {
    return this.#gaps;
  }
  get size(): number {
    return this.#gaps.length;
  }

  /** Merge with the previous gap when contiguous and for the same reason, so headers stay short. */
  add(gap: GapRecord): void {
    const last = this.#gaps.at(-1);
    if (last && last.reason === gap.reason && last.seqTo + 1 === gap.seqFrom) {
      this.#gaps[this.#gaps.length - 1] = {
        ...last,
        seqTo: gap.seqTo,
        end: gap.end,
        bytes: last.bytes + gap.bytes,
      };
    } else {
      this.#gaps.push(gap);
    }
  }

  /**
   * The ingest acknowledged a segment carrying these gaps: they are announced. Settled by their
   * sequence range and reason, so a gap that grew since it was sent (merged with a later loss)
   * stays to be announced whole.
   */
  settle(announced: readonly GapRecord[]): boolean {
    if (announced.length === 0) return false;
    const said = new Set(announced.map(rangeOf));
    this.#gaps = this.#gaps.filter((g) => !said.has(rangeOf(g)));
    return true;
  }

  /**
   * Write the loss to the ledger (fsync'd). A failed write is said, and the line kept for the
   * next write: the loss is announced to the cloud all the same.
   */
  async ledger(gap: GapRecord): Promise<void> {
    await this.#ledger.record(gap).catch((error: unknown) => {
      this.#emit({
        type: 'error',
        code: 'ERR_LEDGER',
        message: `could not write the loss ledger (kept, written with the next loss; the loss is still announced to the cloud): ${String(error)}`,
      });
    });
  }

  /** Write the lines kept from failed writes (at close). */
  flush(): Promise<void> {
    return this.#ledger.flush().catch(() => {});
  }
}

function rangeOf(gap: GapRecord): string {
  return `${gap.seqFrom}..${gap.seqTo} ${gap.reason}`;
}
