import { createHash, randomBytes } from 'node:crypto';
import { escapeXml } from './xml.js';

/** An ONVIF account. The password is the operator's secret: never logged (see src/redact.ts). */
export interface OnvifCredentials {
  readonly user: string;
  readonly password: string;
}

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const PASSWORD_DIGEST =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest';
const BASE64_BINARY =
  'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';

/** WS-Security UsernameToken profile: base64(sha1(nonce + created + password)), nonce as raw bytes. */
export function passwordDigest(nonce: Buffer, created: string, password: string): string {
  return createHash('sha1')
    .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
    .digest('base64');
}

/**
 * The `<wsse:Security>` SOAP header every ONVIF device accepts: a UsernameToken with a
 * PasswordDigest, so the password itself never crosses the network. `now` is the device's
 * clock as far as we know it: devices refuse a Created too far from their own time.
 */
export function securityHeader(
  credentials: OnvifCredentials,
  now: Date,
  nonce: Buffer = randomBytes(16),
): string {
  // Whole seconds, as devices' own clients send it; some parsers refuse fractions.
  const created = `${now.toISOString().slice(0, 19)}Z`;
  const digest = passwordDigest(nonce, created, credentials.password);
  return (
    `<wsse:Security xmlns:wsse="${WSSE}" xmlns:wsu="${WSU}" s:mustUnderstand="1">` +
    '<wsse:UsernameToken>' +
    `<wsse:Username>${escapeXml(credentials.user)}</wsse:Username>` +
    `<wsse:Password Type="${PASSWORD_DIGEST}">${digest}</wsse:Password>` +
    `<wsse:Nonce EncodingType="${BASE64_BINARY}">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created>` +
    '</wsse:UsernameToken>' +
    '</wsse:Security>'
  );
}
