import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnFreePort } from './ports.js';

/**
 * A small ONVIF device on 127.0.0.1, as a camera's firmware answers: the device service
 * (GetSystemDateAndTime, GetCapabilities, GetServices, GetDeviceInformation), the media service
 * (GetProfiles, GetStreamUri) checking a WS-Security UsernameToken digest the way the ONVIF core
 * spec says, and a UDP WS-Discovery responder. Written apart from src/onvif (regular
 * expressions, its own prefixes), so the client is judged by a second reading of the protocol.
 */
export interface FakeProfile {
  token: string;
  name: string;
  width?: number;
  height?: number;
}

export interface FakeOnvifOptions {
  /** Require this account on everything but the pre-auth calls; none: every call is anonymous. */
  user?: string;
  password?: string;
  /** What GetStreamUri returns for a profile token. */
  streamUri: (token: string) => string;
  /** @default one profile "main" */
  profiles?: FakeProfile[];
  /** The device's clock minus the real one (a camera without NTP). @default 0 */
  clockSkewMs?: number;
  /** Answer GetCapabilities with a fault, as devices that only do GetServices. @default false */
  noCapabilities?: boolean;
  name?: string;
  model?: string;
  /** Never answer HTTP (a hung device). @default false */
  hang?: boolean;
  /** Answer GetStreamUri with a SOAP fault giving this reason (a device's own text). */
  streamUriFault?: string;
}

export interface FakeOnvifDevice {
  /** `127.0.0.1:<port>` of the HTTP services. */
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:<port>` of the WS-Discovery responder. */
  readonly discoveryAddress: string;
  /** Every SOAP request: its operation and whether it carried a valid digest. */
  readonly calls: Array<{ operation: string; authenticated: boolean; body: string }>;
  /** Resolves once a request has been received (and, with `hang`, left unanswered). */
  nextCall(): Promise<void>;
  close(): Promise<void>;
}

/** Calls the ONVIF core spec lets anyone make (access class PRE_AUTH). */
const PRE_AUTH = new Set(['GetSystemDateAndTime', 'GetCapabilities', 'GetServices']);
/** How far a token's Created may be from the device's clock. */
const CREATED_TOLERANCE_MS = 5000;

const NS =
  'xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema" ' +
  'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" ' +
  'xmlns:ter="http://www.onvif.org/ver10/error"';

export async function startFakeOnvifDevice(options: FakeOnvifOptions): Promise<FakeOnvifDevice> {
  const profiles = options.profiles ?? [{ token: 'profile_main', name: 'main', width: 320, height: 240 }];
  const calls: FakeOnvifDevice['calls'] = [];
  const events = new EventEmitter();
  const server: Server = createServer((request, response) => {
    void answer(request, response);
  });
  const port = await listenOnFreePort(server);
  const base = `http://127.0.0.1:${port}`;
  const now = () => new Date(Date.now() + (options.clockSkewMs ?? 0));

  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of request) body += chunk;
    const operation = /<(?:\w+:)?Body[^>]*>\s*<(?:\w+:)?(\w+)/.exec(body)?.[1] ?? '?';
    const authenticated = checkDigest(body);
    calls.push({ operation, authenticated, body });
    events.emit('call');
    if (options.hang) return;
    const send = (status: number, inner: string) => {
      response.writeHead(status, { 'content-type': 'application/soap+xml; charset=utf-8' });
      response.end(
        `<?xml version="1.0" encoding="UTF-8"?><SOAP-ENV:Envelope ${NS}><SOAP-ENV:Body>${inner}</SOAP-ENV:Body></SOAP-ENV:Envelope>`,
      );
    };
    const fault = (status: number, subcode: string, reason: string) =>
      send(
        status,
        `<SOAP-ENV:Fault><SOAP-ENV:Code><SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value><SOAP-ENV:Subcode><SOAP-ENV:Value>${subcode}</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code><SOAP-ENV:Reason><SOAP-ENV:Text xml:lang="en">${reason}</SOAP-ENV:Text></SOAP-ENV:Reason></SOAP-ENV:Fault>`,
      );
    if (options.user !== undefined && !PRE_AUTH.has(operation) && !authenticated)
      return fault(400, 'ter:NotAuthorized', 'Sender not Authorized');
    const t = now();
    switch (operation) {
      case 'GetSystemDateAndTime':
        return send(
          200,
          `<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:UTCDateTime><tt:Time><tt:Hour>${t.getUTCHours()}</tt:Hour><tt:Minute>${t.getUTCMinutes()}</tt:Minute><tt:Second>${t.getUTCSeconds()}</tt:Second></tt:Time><tt:Date><tt:Year>${t.getUTCFullYear()}</tt:Year><tt:Month>${t.getUTCMonth() + 1}</tt:Month><tt:Day>${t.getUTCDate()}</tt:Day></tt:Date></tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>`,
        );
      case 'GetCapabilities':
        if (options.noCapabilities)
          return fault(500, 'ter:ActionNotSupported', 'Optional Action Not Implemented');
        return send(
          200,
          `<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media><tt:XAddr>${base}/onvif/Media</tt:XAddr></tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>`,
        );
      case 'GetServices':
        return send(
          200,
          `<tds:GetServicesResponse><tds:Service><tds:Namespace>http://www.onvif.org/ver10/device/wsdl</tds:Namespace><tds:XAddr>${base}/onvif/device_service</tds:XAddr></tds:Service><tds:Service><tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace><tds:XAddr>${base}/onvif/Media</tds:XAddr></tds:Service></tds:GetServicesResponse>`,
        );
      case 'GetDeviceInformation':
        return send(
          200,
          `<tds:GetDeviceInformationResponse><tds:Manufacturer>Fake</tds:Manufacturer><tds:Model>${options.model ?? 'FK-1'}</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>1</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId></tds:GetDeviceInformationResponse>`,
        );
      case 'GetProfiles':
        return send(
          200,
          `<trt:GetProfilesResponse>${profiles
            .map(
              (p) =>
                `<trt:Profiles token="${p.token}" fixed="true"><tt:Name>${p.name}</tt:Name><tt:VideoEncoderConfiguration token="enc_${p.token}"><tt:Name>enc</tt:Name><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>${p.width ?? 320}</tt:Width><tt:Height>${p.height ?? 240}</tt:Height></tt:Resolution><tt:RateControl><tt:FrameRateLimit>10</tt:FrameRateLimit></tt:RateControl></tt:VideoEncoderConfiguration></trt:Profiles>`,
            )
            .join('')}</trt:GetProfilesResponse>`,
        );
      case 'GetStreamUri': {
        const token = /<(?:\w+:)?ProfileToken>([^<]*)</.exec(body)?.[1] ?? '';
        if (!profiles.some((p) => p.token === token))
          return fault(400, 'ter:InvalidArgVal', 'No such profile');
        if (options.streamUriFault !== undefined) return fault(500, 'ter:Action', options.streamUriFault);
        return send(
          200,
          `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>${options.streamUri(token)}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`,
        );
      }
      default:
        return fault(400, 'ter:ActionNotSupported', `${operation} not supported`);
    }
  }

  /** The UsernameToken digest, recomputed: base64(sha1(nonce bytes + Created + password)), Created fresh. */
  function checkDigest(body: string): boolean {
    const field = (name: string) => new RegExp(`<(?:\\w+:)?${name}(?:\\s[^>]*)?>([^<]*)<`).exec(body)?.[1];
    const [user, digest, nonce, created] = ['Username', 'Password', 'Nonce', 'Created'].map(field);
    if (user === undefined || digest === undefined || nonce === undefined || created === undefined)
      return false;
    if (!/PasswordDigest/.test(body)) return false;
    if (Math.abs(Date.parse(created) - now().getTime()) > CREATED_TOLERANCE_MS) return false;
    const expected = createHash('sha1')
      .update(
        Buffer.concat([
          Buffer.from(nonce, 'base64'),
          Buffer.from(created),
          Buffer.from(options.password ?? ''),
        ]),
      )
      .digest('base64');
    return user === options.user && digest === expected;
  }

  const udp: Socket = createSocket('udp4');
  udp.on('message', (message, from) => {
    const text = message.toString('utf8');
    if (!/Probe\b/.test(text)) return;
    const messageId = /<(?:\w+:)?MessageID>([^<]*)</.exec(text)?.[1] ?? '';
    const scopes = [
      'onvif://www.onvif.org/type/video_encoder',
      `onvif://www.onvif.org/name/${encodeURIComponent(options.name ?? 'Fake Camera')}`,
      `onvif://www.onvif.org/hardware/${encodeURIComponent(options.model ?? 'FK-1')}`,
    ].join(' ');
    const reply =
      '<?xml version="1.0" encoding="UTF-8"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" ' +
      'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsd="http://schemas.xmlsoap.org/ws/2005/04/discovery" ' +
      'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><env:Header>' +
      `<wsa:MessageID>urn:uuid:reply-${port}-${Math.random()}</wsa:MessageID><wsa:RelatesTo>${messageId}</wsa:RelatesTo>` +
      '<wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action></env:Header><env:Body>' +
      `<wsd:ProbeMatches><wsd:ProbeMatch><wsa:EndpointReference><wsa:Address>urn:uuid:fake-device-${port}</wsa:Address></wsa:EndpointReference>` +
      `<wsd:Types>dn:NetworkVideoTransmitter</wsd:Types><wsd:Scopes>${scopes}</wsd:Scopes>` +
      `<wsd:XAddrs>${base}/onvif/device_service</wsd:XAddrs><wsd:MetadataVersion>1</wsd:MetadataVersion></wsd:ProbeMatch></wsd:ProbeMatches>` +
      '</env:Body></env:Envelope>';
    udp.send(reply, from.port, from.address);
  });
  udp.bind(0, '127.0.0.1');
  await once(udp, 'listening');
  const udpPort = udp.address().port;

  return {
    host: `127.0.0.1:${port}`,
    port,
    discoveryAddress: `127.0.0.1:${udpPort}`,
    calls,
    async nextCall() {
      await once(events, 'call');
    },
    async close() {
      if (!server.listening) return;
      udp.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
