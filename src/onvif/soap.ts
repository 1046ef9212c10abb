import { Agent, request } from 'undici';
import { OnvifError } from '../errors.js';
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
    ({ status, text } = await post(url, envelope, options.signal));
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

/** Largest answer read: profiles of a busy NVR fit many times over; anything bigger is not ONVIF. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/**
 * Through undici, as the uploader's requests: `request` (not fetch, which refuses "bad ports" such
 * as 554 or 5060 that a camera's web service may use), over a connection of its own that the call
 * closes. Not the uploader's dispatcher: that one goes to the ingest, through its proxy and with
 * its CA, and a camera is on the local network.
 */
async function post(
  url: string,
  body: string,
  signal: AbortSignal,
): Promise<{ status: number; text: string }> {
  const dispatcher = new Agent();
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/soap+xml; charset=utf-8' },
      body,
      signal,
      dispatcher,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        response.body.destroy();
        throw new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    return { status: response.statusCode, text: Buffer.concat(chunks).toString('utf8') };
  } finally {
    await dispatcher.destroy().catch(() => undefined);
  }
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
