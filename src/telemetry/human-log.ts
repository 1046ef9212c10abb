import { redact } from '../redact.js';
import { type Listener, PROCESS_CAMERA, type StampedEvent } from './events.js';

/** A retry that goes on is said again this often (per camera), so an outage is not one line then silence. */
export const RETRY_REPEAT_MS = 60_000;

/**
 * Plain stderr lines for people: warnings and milestones always, the rest with --verbose.
 * While `nameCameras()` says so (more than one camera), each camera's line says `[id]` after the time.
 */
export function humanLog(
  write: (line: string) => void,
  verbose: boolean,
  nameCameras: () => boolean = () => false,
): Listener {
  const retrySaidAt = new Map<string, number>();
  return (event) => {
    let text = describe(event, verbose);
    if (event.type === 'segment' && event.phase === 'retry' && !verbose) {
      const at = Date.parse(event.ts);
      const said = retrySaidAt.get(event.camera);
      if (event.attempt === 1 || said === undefined || at - said >= RETRY_REPEAT_MS) {
        retrySaidAt.set(event.camera, at);
        text ??= `segment ${event.sequence} still failing after ${event.attempt} attempts, next in ${((event.delayMs ?? 0) / 1000).toFixed(1)} s: ${event.reason}`;
      }
    } else if (event.type === 'segment' && event.phase === 'delivered') retrySaidAt.delete(event.camera);
    if (!text) return;
    const who = event.camera !== PROCESS_CAMERA && nameCameras() ? `[${event.camera}] ` : '';
    write(redact(`${event.ts.slice(11, 19)} ${who}${text}`));
  };
}

function describe(event: StampedEvent, verbose: boolean): string | undefined {
  switch (event.type) {
    case 'log':
      return event.level === 'debug' && !verbose
        ? undefined
        : `${event.level === 'warn' ? 'warning: ' : ''}${event.message}`;
    case 'error':
      return `error: ${event.message}`;
    case 'state':
      return `state ${event.state}${event.detail ? ` (${event.detail})` : ''}`;
    case 'ffmpeg':
      if (event.phase === 'exited' && verbose && event.stderr?.length) {
        return `ffmpeg exited (${event.signal ?? event.exitCode}); last lines:\n  ${event.stderr.join('\n  ')}`;
      }
      if (event.phase === 'restarting') return `restarting ffmpeg in ${(event.delayMs ?? 0) / 1000} s`;
      if (event.phase === 'stalled') return 'ffmpeg stalled';
      return verbose ? `ffmpeg ${event.phase}${event.pid ? ` pid ${event.pid}` : ''}` : undefined;
    case 'segment':
      if (event.phase === 'evicted' || event.phase === 'rejected') {
        return `segment ${event.sequence} ${event.phase}${event.reason ? ` (${event.reason})` : ''}${event.status ? ` HTTP ${event.status}` : ''}`;
      }
      if (event.phase === 'retry') {
        return verbose || event.attempt === 1
          ? `segment ${event.sequence} will be retried in ${((event.delayMs ?? 0) / 1000).toFixed(1)} s: ${event.reason}`
          : undefined;
      }
      return verbose
        ? `segment ${event.sequence} ${event.phase}${event.bytes ? ` ${event.bytes} B` : ''}`
        : undefined;
    case 'progress':
    case 'request':
      return undefined;
  }
}
