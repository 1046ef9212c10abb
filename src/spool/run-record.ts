import { type LastRun, writeCameraState } from './camera-state.js';
import { type GapRecord, type JournalData, type JournalEntry, JournalWriter } from './journal.js';
import { currentOwner } from './owner.js';
import type { SpoolParts } from './spool-parts.js';

/** What the run's record is made of: the spool's in-memory parts, read when it is written. */
export type RunParts = Pick<
  SpoolParts,
  'root' | 'dir' | 'cameraId' | 'runId' | 'index' | 'gaps' | 'timeline'
>;

/**
 * One run's record on disk: its journal (appended line by line, rewritten whole from the
 * in-memory parts when needed) and the camera's state file, which outlives the run dir (where
 * the sequence goes on, how and when the run ended).
 */
export class RunRecord {
  readonly #p: RunParts;
  readonly #journal: JournalWriter;
  /** ffmpeg's pid, so a later start can kill it if this relay dies without it. */
  ffmpegPid: number | undefined;

  constructor(parts: RunParts) {
    this.#p = parts;
    this.#journal = new JournalWriter(parts.dir, () => this.#snapshot());
  }

  append(...entries: JournalEntry[]): Promise<void> {
    return this.#journal.append(...entries);
  }

  rewrite(): Promise<void> {
    return this.#journal.rewrite();
  }

  closeJournal(): Promise<void> {
    return this.#journal.close();
  }

  /**
   * Write the camera's state file; `running` at a start, so a kill is told from a stop. It holds
   * `gaps` only for a run that leaves no journal: otherwise they are in the journal already.
   */
  async remember(ended: LastRun['ended'] = 'running', gaps: readonly GapRecord[] = []): Promise<void> {
    const { root, cameraId, runId, index, timeline } = this.#p;
    await writeCameraState(root, cameraId, {
      nextSequence: index.nextSequence,
      gaps,
      lastRun: { runId, ended, capturedUntil: timeline.capturedUntil },
    }).catch(() => {});
  }

  #snapshot(): JournalData {
    const { cameraId, runId, index, gaps, timeline } = this.#p;
    return {
      version: 2,
      cameraId,
      runId,
      owner: currentOwner(this.ffmpegPid),
      nextSequence: index.nextSequence,
      segments: [...index.records()],
      gaps: gaps.list,
      capturedUntil: timeline.capturedUntil,
    };
  }
}
