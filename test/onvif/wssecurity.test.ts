import { describe, expect, it } from 'vitest';
import { passwordDigest, securityHeader } from '../../src/onvif/wssecurity.js';
import { parseXml, textAt } from '../../src/onvif/xml.js';

describe('WS-Security UsernameToken digest', () => {
  it('is base64(sha1(nonce bytes + created + password)): the ONVIF programmer guide example', () => {
    const nonce = Buffer.from('LKqI6G/AikKCQrN0zqZFlg==', 'base64');
    expect(passwordDigest(nonce, '2010-09-16T07:50:45Z', 'userpassword')).toBe(
      'tuOSpGlFlIXsozq4HFNeeGeFLEI=',
    );
  });

  it('puts the digest, nonce and whole-second Created in a header, never the password', () => {
    const nonce = Buffer.alloc(16, 7);
    const header = securityHeader(
      { user: 'ad<min', password: 'secret-pw' },
      new Date('2026-12-01T10:00:00.789Z'),
      nonce,
    );
    expect(header).not.toContain('secret-pw');
    const xml = parseXml(
      `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">${header}</s:Envelope>`,
    );
    expect(textAt(xml, 'Username')).toBe('ad<min');
    expect(textAt(xml, 'Created')).toBe('2026-12-01T10:00:00Z');
    expect(textAt(xml, 'Nonce')).toBe(nonce.toString('base64'));
    expect(textAt(xml, 'Password')).toBe(passwordDigest(nonce, '2026-12-01T10:00:00Z', 'secret-pw'));
  });
});
