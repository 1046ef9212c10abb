import { OnvifError } from '../errors.js';
import { type SoapCallOptions, soapCall } from './soap.js';
import { findAll, findFirst, textAt, type XmlElement } from './xml.js';

/** The device management service: the clock, where the media service is, and what the device is. */
const TDS = 'http://www.onvif.org/ver10/device/wsdl';
const MEDIA_NS = 'http://www.onvif.org/ver10/media/wsdl';

/**
 * The device's clock minus ours, in ms, asked anonymously (the one call every device answers
 * before authentication). A box without NTP may be minutes off: a UsernameToken stamped with
 * our clock would then be refused as stale. 0 when the device does not say.
 */
export async function clockOffsetMs(deviceUrl: string, options: SoapCallOptions): Promise<number> {
  const asked = Date.now();
  let answer: XmlElement;
  try {
    answer = await soapCall(deviceUrl, `<tds:GetSystemDateAndTime xmlns:tds="${TDS}"/>`, {
      ...options,
      credentials: undefined,
    });
  } catch (error) {
    // Unreachable or aborted: the next call says so. A fault here: stamp with our own clock.
    if (error instanceof OnvifError && error.code !== 'ERR_ONVIF_UNREACHABLE') return 0;
    throw error;
  }
  const utc = findFirst(answer, 'UTCDateTime');
  if (!utc) return 0;
  const [year, month, day, hour, minute, second] = ['Year', 'Month', 'Day', 'Hour', 'Minute', 'Second'].map(
    (name) => Number(textAt(utc, name)),
  );
  const device = Date.UTC(year!, month! - 1, day!, hour!, minute!, second!);
  if (!Number.isFinite(device)) return 0;
  // Their clock was read about halfway through the round trip.
  return device - (asked + (Date.now() - asked) / 2);
}

/**
 * The media service's address: GetCapabilities (every ONVIF version), else GetServices
 * (newer devices may implement only that).
 */
export async function mediaServiceUrl(deviceUrl: string, options: SoapCallOptions): Promise<string> {
  let capabilitiesError: unknown;
  try {
    const answer = await soapCall(
      deviceUrl,
      `<tds:GetCapabilities xmlns:tds="${TDS}"><tds:Category>Media</tds:Category></tds:GetCapabilities>`,
      options,
    );
    const media = findFirst(answer, 'Media');
    const xaddr = media && textAt(media, 'XAddr');
    if (xaddr) return xaddr;
  } catch (error) {
    if (!(error instanceof OnvifError) || error.code !== 'ERR_ONVIF_PROTOCOL') throw error;
    capabilitiesError = error;
  }
  const answer = await soapCall(
    deviceUrl,
    `<tds:GetServices xmlns:tds="${TDS}"><tds:IncludeCapability>false</tds:IncludeCapability></tds:GetServices>`,
    options,
  ).catch((error: unknown) => {
    throw capabilitiesError ?? error;
  });
  const media = findAll(answer, 'Service').find((service) => textAt(service, 'Namespace') === MEDIA_NS);
  const xaddr = media && textAt(media, 'XAddr');
  if (!xaddr) {
    throw new OnvifError(
      'ERR_ONVIF_PROTOCOL',
      `ONVIF device at ${deviceUrl} lists no media service (${MEDIA_NS}): it cannot give a stream URI`,
    );
  }
  return xaddr;
}

export interface DeviceInformation {
  readonly manufacturer?: string | undefined;
  readonly model?: string | undefined;
  readonly firmware?: string | undefined;
}

/** GetDeviceInformation: with `options.credentials` absent, also tells whether the device needs them. */
export async function deviceInformation(
  deviceUrl: string,
  options: SoapCallOptions,
): Promise<DeviceInformation> {
  const answer = await soapCall(deviceUrl, `<tds:GetDeviceInformation xmlns:tds="${TDS}"/>`, options);
  return {
    manufacturer: textAt(answer, 'Manufacturer') || undefined,
    model: textAt(answer, 'Model') || undefined,
    firmware: textAt(answer, 'FirmwareVersion') || undefined,
  };
}
