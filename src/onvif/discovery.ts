import { randomUUID } from 'node:crypto';
import { createSocket, type RemoteInfo } from 'node:dgram';
import { printable } from '../printable.js';
import { type DiscoveryTarget, WS_DISCOVERY_TARGET } from './defaults.js';
import { findAll, parseXml, textAt } from './xml.js';

/** A device that answered the probe, as it described itself. */
export interface ProbeMatch {
  /** Its stable id (EndpointReference, usually `urn:uuid:…`): one device answering twice is one. */
  readonly endpoint: string;
  /** Its device service URLs (`http://10.0.0.5/onvif/device_service`), first the one to use. */
  readonly xaddrs: readonly string[];
  readonly scopes: readonly string[];
  /** From its `onvif://www.onvif.org/name/…` scope. */
  readonly name?: string | undefined;
  /** From its `onvif://www.onvif.org/hardware/…` scope. */
  readonly hardware?: string | undefined;
  /** Who sent the answer. */
  readonly from: string;
}

export interface ProbeOptions {
  /** @default WS_DISCOVERY_TARGET (multicast); a unicast address for networks without multicast. */
  readonly target?: DiscoveryTarget;
  /** How long answers are collected. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

const PROBE_TYPES = [
  // Cameras and encoders (ONVIF Profile S/T) …
  'dn:NetworkVideoTransmitter',
  // … and devices that announce only the generic device type.
  'tds:Device',
];

/**
 * Send a WS-Discovery Probe and collect the ProbeMatches that answer it within `timeoutMs`
 * (devices answer by unicast to the probe's source port). Aborted, it rejects with the reason.
 */
export function wsDiscoveryProbe(options: ProbeOptions): Promise<ProbeMatch[]> {
  const target = options.target ?? WS_DISCOVERY_TARGET;
  const messageIds = PROBE_TYPES.map(() => `urn:uuid:${randomUUID()}`);
  const found = new Map<string, ProbeMatch>();
  const socket = createSocket('udp4');
  return new Promise<ProbeMatch[]>((resolve, reject) => {
    let done = false;
    const finish = (error?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.close();
      if (error === undefined) resolve([...found.values()]);
      else reject(error);
    };
    const onAbort = () => finish(options.signal!.reason);
    const timer = setTimeout(() => finish(), options.timeoutMs);
    if (options.signal?.aborted) return finish(options.signal.reason);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (error) => finish(error));
    socket.on('message', (message: Buffer, from: RemoteInfo) => {
      for (const match of parseProbeMatches(message.toString('utf8'), messageIds, from)) {
        if (!found.has(match.endpoint)) found.set(match.endpoint, match);
      }
    });
    socket.bind(0, () => {
      PROBE_TYPES.forEach((type, i) => {
        const message = Buffer.from(probeMessage(messageIds[i]!, type));
        socket.send(message, target.port, target.address, (error) => {
          if (error) finish(error);
        });
      });
    });
  });
}

function probeMessage(messageId: string, type: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" ' +
    'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" xmlns:dn="http://www.onvif.org/ver10/network/wsdl" ' +
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl">' +
    '<s:Header>' +
    `<a:MessageID>${messageId}</a:MessageID>` +
    '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
    '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>' +
    '</s:Header>' +
    `<s:Body><d:Probe><d:Types>${type}</d:Types></d:Probe></s:Body>` +
    '</s:Envelope>'
  );
}

/** The matches in one datagram; nothing when it is not XML, or answers someone else's probe. */
export function parseProbeMatches(
  text: string,
  messageIds: readonly string[],
  from: RemoteInfo,
): ProbeMatch[] {
  let root: ReturnType<typeof parseXml>;
  try {
    root = parseXml(text);
  } catch {
    return [];
  }
  const relatesTo = textAt(root, 'Header', 'RelatesTo');
  if (relatesTo !== undefined && !messageIds.includes(relatesTo)) return [];
  return findAll(root, 'ProbeMatch').flatMap((match) => {
    const xaddrs = words(textAt(match, 'XAddrs'));
    const endpoint = textAt(match, 'EndpointReference', 'Address') || xaddrs[0];
    if (!endpoint || xaddrs.length === 0) return [];
    const scopes = words(textAt(match, 'Scopes'));
    return [
      {
        endpoint,
        xaddrs: preferIpv4(xaddrs),
        scopes,
        name: scope(scopes, 'name'),
        hardware: scope(scopes, 'hardware'),
        from: `${from.address}:${from.port}`,
      },
    ];
  });
}

function words(text: string | undefined): string[] {
  return (text ?? '').split(/\s+/).filter(Boolean);
}

/** We probe over udp4: an IPv4 service address first, link-local IPv6 ones last. */
function preferIpv4(xaddrs: string[]): string[] {
  return [...xaddrs].sort((a, b) => Number(a.includes('[')) - Number(b.includes('[')));
}

/** `onvif://www.onvif.org/name/Front%20Door` → `Front Door` (several are joined), printable: `%1B` decodes to ESC. */
function scope(scopes: readonly string[], kind: string): string | undefined {
  const prefix = `onvif://www.onvif.org/${kind}/`;
  const values = scopes
    .filter((s) => s.toLowerCase().startsWith(prefix))
    .map((s) => {
      const raw = s.slice(prefix.length);
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    });
  return values.length > 0 ? printable(values.join(' ')) : undefined;
}
