import { OnvifError } from '../errors.js';
import { postToDevice } from '../uploader/http.js';
import { type OnvifCredentials, securityHeader } from './wssecurity.js';
import { findFirst, parseXml, textAt, type XmlElement } from './xml.js';

const SOAP_ENV = 'http://www.w3.org/2003/05/soap-envelope';

export interface SoapCallOptions {
  /** Sign the request with a WS-Security UsernameToken; without, the call is anonymous. */
  readonly credentials?: OnvifCredentials | undefined;
  /** The device's clock minus ours (GetSystemDateAndTime), so the token's Created is its time. */
  readonly clockOffsetMs?: number;
  /** Aborts the call: a timeout (its reason a TimeoutError) or the caller's own stop. */
  readonly signal: AbortSignal;
  /** For the message when `signal` times out. */
  readonly timeoutMs: number;
}

/**
 * Subcodes by which devices say "not this user or password": ONVIF's `ter:NotAuthorized`, and
 * WS-Security's own `wsse:FailedAuthentication` / `InvalidSecurityToken` that some stacks send.
 */
const AUTH_SUBCODE = /NotAuthorized|FailedAuthentication|InvalidSecurity|FailedCheck/i;

/** Largest answer read: profiles of a busy NVR fit many times over; anything bigger is not ONVIF. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * One SOAP 1.2 request to an ONVIF service: `body` is the Body's content (namespaces declared
 * on its element). Resolves with the Body's first element; a refusal of the credentials is
 * ERR_ONVIF_AUTH, no answer ERR_ONVIF_UNREACHABLE, a fault or non-SOAP answer ERR_ONVIF_PROTOCOL.
 * Aborted by the caller (not a timeout), it rejects with the signal's reason.
 */
export async function soapCall(url: string, body: string, options: SoapCallOptions): Promise<XmlElement> {
  const header = options.credentials
    ? securityHeader(options.credentials, new Date(Date.now() + (options.clockOffsetMs ?? 0)))
    : '';
  const envelope = `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${SOAP_ENV}"><s:Header>${header}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
  const where = deviceName(url);
  let status: number;
  let text: string;
  try {
    ({ status, text } = await postToDevice(url, {
      body: envelope,
      contentType: 'application/soap+xml; charset=utf-8',
      signal: options.signal,
      maxAnswerBytes: MAX_ANSWER_BYTES,
    }));
  } catch (error) {
    throw failure(error, where, options);
  }
  let root: XmlElement | undefined;
  try {
    root = parseXml(text);
  } catch {
    // An HTTP 401 with an HTML page: a device that wants HTTP auth, or refuses ours.
  }
  const fault = root && findFirst(root, 'Fault');
  if (status === 401 || (fault && AUTH_SUBCODE.test(faultCodes(fault)))) {
    const user = options.credentials ? `user "${options.credentials.user}"` : 'a request without credentials';
    throw new OnvifError(
      'ERR_ONVIF_AUTH',
      `ONVIF device ${where} refused ${user}: wrong user or password${options.credentials ? '' : ' (it needs credentials)'}`,
    );
  }
  if (fault) {
    const reason = textAt(fault, 'Reason', 'Text') ?? (faultCodes(fault) || 'no reason given');
    throw new OnvifError(
      'ERR_ONVIF_PROTOCOL',
      `ONVIF device ${where} answered a SOAP fault: ${oneLine(reason)}`,
    );
  }
  const answer = root?.name === 'Envelope' ? findFirst(root, 'Body')?.children[0] : undefined;
  if (!answer || status < 200 || status > 299) {
    throw new OnvifError(
      'ERR_ONVIF_PROTOCOL',
      `ONVIF device ${where} answered HTTP ${status} without a SOAP answer: is ${url} its ONVIF service?`,
    );
  }
  return answer;
}

function failure(error: unknown, where: string, options: SoapCallOptions): unknown {
  const { signal } = options;
  if (signal.aborted && !(signal.reason instanceof DOMException && signal.reason.name === 'TimeoutError'))
    return signal.reason;
  if (signal.aborted) {
    return new OnvifError(
      'ERR_ONVIF_UNREACHABLE',
      `ONVIF device ${where} did not answer within ${options.timeoutMs / 1000}s`,
    );
  }
  const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  return new OnvifError('ERR_ONVIF_UNREACHABLE', `ONVIF device ${where} cannot be reached (${why})`, {
    cause: error,
  });
}

/** Every Code/Subcode value of a fault, e.g. "env:Sender ter:NotAuthorized". */
function faultCodes(fault: XmlElement): string {
  const values: string[] = [];
  const walk = (element: XmlElement) => {
    if (element.name === 'Value' || element.name === 'faultcode') values.push(element.text);
    for (const child of element.children) if (child.name !== 'Reason' && child.name !== 'Detail') walk(child);
  };
  walk(fault);
  return values.join(' ');
}

/** `http://10.0.0.5:8000/onvif/device_service` → `10.0.0.5:8000`: what the operator typed. */
export function deviceName(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}
