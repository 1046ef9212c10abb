import type { RemoteInfo } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { parseProbeMatches } from '../../src/onvif/discovery.js';

const from: RemoteInfo = { address: '10.0.0.5', port: 3702, family: 'IPv4', size: 0 };
const MINE = 'urn:uuid:1111';

function answer(relatesTo: string, match: string): string {
  return (
    '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">' +
    `<e:Header><w:RelatesTo>${relatesTo}</w:RelatesTo></e:Header><e:Body><d:ProbeMatches>${match}</d:ProbeMatches></e:Body></e:Envelope>`
  );
}

const MATCH =
  '<d:ProbeMatch><w:EndpointReference><w:Address>urn:uuid:cam-1</w:Address></w:EndpointReference>' +
  '<d:Scopes>onvif://www.onvif.org/name/Front%20Door onvif://www.onvif.org/hardware/DS-2CD onvif://www.onvif.org/location/x</d:Scopes>' +
  '<d:XAddrs>http://[fe80::1]/onvif/device_service http://10.0.0.5/onvif/device_service</d:XAddrs></d:ProbeMatch>';

describe('parseProbeMatches', () => {
  it('reads the endpoint, name and hardware scopes, IPv4 service address first', () => {
    expect(parseProbeMatches(answer(MINE, MATCH), [MINE], from)).toEqual([
      {
        endpoint: 'urn:uuid:cam-1',
        xaddrs: ['http://10.0.0.5/onvif/device_service', 'http://[fe80::1]/onvif/device_service'],
        scopes: [
          'onvif://www.onvif.org/name/Front%20Door',
          'onvif://www.onvif.org/hardware/DS-2CD',
          'onvif://www.onvif.org/location/x',
        ],
        name: 'Front Door',
        hardware: 'DS-2CD',
        from: '10.0.0.5:3702',
      },
    ]);
  });

  it("ignores an answer to another client's probe, a datagram that is not XML, a match without XAddrs", () => {
    expect(parseProbeMatches(answer('urn:uuid:other', MATCH), [MINE], from)).toEqual([]);
    expect(parseProbeMatches('<not xml', [MINE], from)).toEqual([]);
    expect(parseProbeMatches(answer(MINE, '<d:ProbeMatch><d:Scopes/></d:ProbeMatch>'), [MINE], from)).toEqual(
      [],
    );
  });
});
