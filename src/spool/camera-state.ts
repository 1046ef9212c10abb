import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './fsutil.js';
import type { GapRecord } from './journal.js';
import { cameraStateFile } from './naming.js';

/**
 * How this camera's last run ended, as far as it could say: `running` is written at its start and
 * replaced at its close, so a `running` found by the next start means the run was killed.
 */
export interface LastRun {
  readonly runId: string;
  readonly ended: 'running' | 'stopped' | 'failed';
  /** ISO end of the last video captured for this camera when this was written. */
  readonly capturedUntil?: string | undefined;
}

/** What a camera's next run needs from the last: where its sequence goes on, losses to announce. */
export interface CameraState {
  readonly nextSequence: number;
  /** Losses recorded while no relay of this camera ran (its dead spool swept by another camera). */
  readonly gaps: readonly GapRecord[];
  /** Absent before this camera's first run (or in a state written by an earlier release). */
  readonly lastRun?: LastRun | undefined;
}

const EMPTY: CameraState = { nextSequence: 0, gaps: [] };
const ENDINGS: ReadonlySet<unknown> = new Set(['running', 'stopped', 'failed']);

/**
 * Read the camera's state file in the spool root. Only a regular file of our own uid is trusted
 * (never through a symlink): another user's file must not move our sequence or invent gaps.
 */
export async function readCameraState(root: string, cameraId: string): Promise<CameraState> {
  let text: string;
  try {
    const handle = await open(
      join(root, cameraStateFile(cameraId)),
      constants.O_RDONLY | constants.O_NOFOLLOW,
    );
    try {
      const info = await handle.stat();
      const uid = process.getuid?.();
      if (!info.isFile() || (uid !== undefined && info.uid !== uid)) return EMPTY;
      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return EMPTY;
  }
  try {
    const data = JSON.parse(text) as { nextSequence?: unknown; gaps?: unknown; lastRun?: Partial<LastRun> };
    const next = data.nextSequence;
    const last = data.lastRun;
    const lastRun =
      typeof last === 'object' && last !== null && typeof last.runId === 'string' && ENDINGS.has(last.ended)
        ? {
            runId: last.runId,
            ended: last.ended as LastRun['ended'],
            capturedUntil: typeof last.capturedUntil === 'string' ? last.capturedUntil : undefined,
          }
        : undefined;
    return {
      nextSequence: typeof next === 'number' && Number.isSafeInteger(next) && next >= 0 ? next : 0,
      gaps: Array.isArray(data.gaps) ? (data.gaps as GapRecord[]) : [],
      ...(lastRun ? { lastRun } : {}),
    };
  } catch {
    return EMPTY;
  }
}

export async function writeCameraState(root: string, cameraId: string, state: CameraState): Promise<void> {
  const data = { cameraId, ...state, updatedAt: new Date().toISOString() };
  await writeFileAtomic(join(root, cameraStateFile(cameraId)), `${JSON.stringify(data)}\n`);
}
