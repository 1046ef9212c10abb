/** How ffmpeg says the camera refused the user/password of --source (RTSP and HTTP alike). */
const CAMERA_REFUSED: readonly RegExp[] = [/\b401 Unauthorized\b/i, /\b403 Forbidden\b/i];

/**
 * "401 Unauthorized" (or "403 Forbidden") when one of ffmpeg's lines says the camera refused the
 * credentials; undefined otherwise. The supervisor's slow retry and doctor's source check both ask.
 */
export function cameraRefusal(lines: readonly string[]): string | undefined {
  for (const line of lines) {
    for (const pattern of CAMERA_REFUSED) {
      const match = pattern.exec(line);
      if (match) return match[0];
    }
  }
  return undefined;
}
