import { OnvifError } from '../errors.js';
import { type SoapCallOptions, soapCall } from './soap.js';
import { escapeXml, findAll, findFirst, textAt } from './xml.js';

/** The media service (ONVIF Profile S, ver10): what a device streams, and where. */
const TRT = 'http://www.onvif.org/ver10/media/wsdl';
const TT = 'http://www.onvif.org/ver10/schema';

/** One media profile: a stream the device offers (main, sub, …). */
export interface OnvifProfile {
  /** What GetStreamUri takes; unique on the device. */
  readonly token: string;
  readonly name: string;
  /** H264, H265, JPEG, MPEG4 … as the device says. */
  readonly encoding?: string | undefined;
  readonly width?: number | undefined;
  readonly height?: number | undefined;
  readonly fps?: number | undefined;
}

/** GetProfiles, in the device's order: the first is, by convention, the main stream. */
export async function getProfiles(mediaUrl: string, options: SoapCallOptions): Promise<OnvifProfile[]> {
  const answer = await soapCall(mediaUrl, `<trt:GetProfiles xmlns:trt="${TRT}"/>`, options);
  return findAll(answer, 'Profiles').flatMap((profile) => {
    const token = profile.attributes.token;
    if (!token) return [];
    const encoder = findFirst(profile, 'VideoEncoderConfiguration');
    const number = (...path: string[]) => {
      const text = encoder && textAt(encoder, ...path);
      return text && Number.isFinite(Number(text)) ? Number(text) : undefined;
    };
    return [
      {
        token,
        name: profile.children.find((child) => child.name === 'Name')?.text || token,
        encoding: (encoder && textAt(encoder, 'Encoding')) || undefined,
        width: number('Resolution', 'Width'),
        height: number('Resolution', 'Height'),
        fps: number('RateControl', 'FrameRateLimit'),
      },
    ];
  });
}

/** GetStreamUri for RTSP (RTP over RTSP, unicast): the URL ffmpeg reads, normally without credentials. */
export async function getStreamUri(
  mediaUrl: string,
  profileToken: string,
  options: SoapCallOptions,
): Promise<string> {
  const answer = await soapCall(
    mediaUrl,
    `<trt:GetStreamUri xmlns:trt="${TRT}" xmlns:tt="${TT}">` +
      '<trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream><tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>' +
      `<trt:ProfileToken>${escapeXml(profileToken)}</trt:ProfileToken>` +
      '</trt:GetStreamUri>',
    options,
  );
  const uri = textAt(answer, 'MediaUri', 'Uri');
  if (!uri || !/^rtsps?:\/\//i.test(uri)) {
    throw new OnvifError(
      'ERR_ONVIF_PROTOCOL',
      `ONVIF media service at ${mediaUrl} gave no rtsp:// stream URI for profile ${profileToken}${uri ? ` (it gave ${uri})` : ''}`,
    );
  }
  return uri;
}

/**
 * The profile `wanted` names (its token, else its name, else its name in any case); the first
 * when nothing is wanted. ERR_ONVIF_PROFILE lists what the device has.
 */
export function pickProfile(
  profiles: readonly OnvifProfile[],
  wanted: string | undefined,
  where: string,
): OnvifProfile {
  if (profiles.length === 0)
    throw new OnvifError('ERR_ONVIF_PROFILE', `ONVIF device ${where} has no media profile to stream`);
  if (wanted === undefined) return profiles[0]!;
  const found =
    profiles.find((p) => p.token === wanted) ??
    profiles.find((p) => p.name === wanted) ??
    profiles.find((p) => p.name.toLowerCase() === wanted.toLowerCase());
  if (!found) {
    throw new OnvifError(
      'ERR_ONVIF_PROFILE',
      `ONVIF device ${where} has no profile "${wanted}"; it has: ${profiles.map(describeProfile).join(', ')}`,
    );
  }
  return found;
}

/** `main (token profile_1, H264 1920x1080 25fps)`: for lists the operator picks from. */
export function describeProfile(profile: OnvifProfile): string {
  const size = profile.width && profile.height ? ` ${profile.width}x${profile.height}` : '';
  const fps = profile.fps ? ` ${profile.fps}fps` : '';
  const video = profile.encoding || size ? `, ${profile.encoding ?? 'video'}${size}${fps}` : '';
  return `${profile.name} (token ${profile.token}${video})`;
}
