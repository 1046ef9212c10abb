import type { UncapturedReason } from '../types.js';
import type { LastRun } from './camera-state.js';
import { type GapRecord, laterIso } from './journal.js';

/** A step between two captures shorter than this (s) is the wall clock's rounding, not a hole. */
const MIN_HOLE_S = 0.1;

/** The hole before a run's first segment, by how the camera's previous run ended. */
const PREVIOUS_RUN_HOLE: Record<LastRun['ended'], UncapturedReason> = {
  running: 'relay-killed',
  stopped: 'relay-stopped',
  failed: 'relay-failed',
};

/**
 * Where this camera's captured video ends (across runs) and why capture stopped there, so the
 * next closed segment can declare the hole before it. No I/O: the spool persists `capturedUntil`
 * in its journal and the camera's state file.
 */
export class CaptureTimeline {
  #capturedUntil: string | undefined;
  #holeReason: UncapturedReason | undefined;

  /** Continue from how the camera's previous run ended (nothing before its first run). */
  constructor(lastRun: LastRun | undefined) {
    this.#capturedUntil = lastRun?.capturedUntil;
    this.#holeReason = lastRun && PREVIOUS_RUN_HOLE[lastRun.ended];
  }

  /** ISO end of the last video captured for this camera, in any run. */
  get capturedUntil(): string | undefined {
    return this.#capturedUntil;
  }

  /** Video up to this ISO instant exists (captured, adopted, or declared lost). */
  captured(iso: string | undefined): void {
    this.#capturedUntil = laterIso(this.#capturedUntil, iso);
  }

  /** Capture stopped for this reason; the first reason stands until a segment closes. */
  stopped(reason: UncapturedReason): void {
    this.#holeReason ??= reason;
  }

  /**
   * A stop ended capture at `endIso` (ffmpeg has exited, its last segment is spooled): the
   * frames since the last captured video were on their way to ffmpeg and are not kept. Returns
   * that tail as a hole before `nextSequence` when it is more than rounding; its reason is the
   * one capture already stopped for (a camera away), else `reason`. `readUntilIso`: when ffmpeg
   * stopped reading; the tail starts there if the last segment was placed past it (its placement,
   * from ffmpeg's progress, trails capture by a frame or two), since nothing later was captured.
   */
  tailUntil(
    nextSequence: number,
    endIso: string,
    reason: UncapturedReason,
    readUntilIso?: string,
  ): GapRecord | undefined {
    const placed = this.#capturedUntil;
    const from =
      placed !== undefined && readUntilIso !== undefined && Date.parse(readUntilIso) < Date.parse(placed)
        ? readUntilIso
        : placed;
    if (from === undefined || !((Date.parse(endIso) - Date.parse(from)) / 1000 >= MIN_HOLE_S))
      return undefined;
    const tail = { seqFrom: nextSequence, seqTo: nextSequence - 1, start: from, end: endIso, bytes: 0 };
    const gap = { ...tail, reason: this.#holeReason ?? reason };
    this.#holeReason = undefined;
    this.#capturedUntil = endIso;
    return gap;
  }

  /**
   * The hole before the segment `sequence` starting at `startIso`, if capture had stopped and
   * the step is more than rounding: an empty sequence range right before that segment.
   */
  holeBefore(sequence: number, startIso: string): GapRecord | undefined {
    const reason = this.#holeReason;
    const from = this.#capturedUntil;
    this.#holeReason = undefined;
    if (reason === undefined || from === undefined) return undefined;
    if (!((Date.parse(startIso) - Date.parse(from)) / 1000 >= MIN_HOLE_S)) return undefined;
    return { seqFrom: sequence, seqTo: sequence - 1, start: from, end: startIso, reason, bytes: 0 };
  }
}
