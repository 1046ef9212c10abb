import { describe, expect, it } from 'vitest';
import {
  credentialHost,
  hasUserinfo,
  mayCarryCredentials,
  withCredentials,
  withoutUserinfo,
} from '../../src/camera/credentials.js';
import { redact } from '../../src/redact.js';

describe('withCredentials', () => {
  it('percent-encodes user and password into the userinfo, which URL parsing reads back', () => {
    const url = withCredentials(
      'rtsp://10.0.0.5:554/Streaming/Channels/101?transport=tcp',
      'ad:min',
      'p@ss:w/o%rd x',
    );
    expect(url).toBe(
      'rtsp://ad%3Amin:p%40ss%3Aw%2Fo%25rd%20x@10.0.0.5:554/Streaming/Channels/101?transport=tcp',
    );
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.username)).toBe('ad:min');
    expect(decodeURIComponent(parsed.password)).toBe('p@ss:w/o%rd x');
    expect(parsed.host).toBe('10.0.0.5:554');
  });

  it('replaces userinfo the URL had, keeps it without a user, and a user alone has no colon', () => {
    expect(withCredentials('rtsp://old:pw@cam/s', 'new', 'pw2-long')).toBe('rtsp://new:pw2-long@cam/s');
    expect(withCredentials('rtsp://cam/s', undefined, 'ignored')).toBe('rtsp://cam/s');
    expect(withCredentials('rtsp://[fe80::1]:554/s', 'u', undefined)).toBe('rtsp://u@[fe80::1]:554/s');
    expect(withCredentials('rtsp://cam', 'u', '')).toBe('rtsp://u:@cam');
  });

  it('registers the password: any later log masks it, even outside a URL', () => {
    withCredentials('rtsp://cam/s', 'u', 'hunter2-secret');
    expect(redact('said hunter2-secret and hunter2%2Dsecret')).not.toContain('hunter2-secret');
  });

  it('tells a URL that holds a user', () => {
    expect(hasUserinfo('rtsp://u:p@cam/s')).toBe(true);
    expect(hasUserinfo('rtsp://cam/s@x')).toBe(false);
    expect(hasUserinfo('http://cam:80/')).toBe(false);
  });
});

describe('mayCarryCredentials: only to a host the operator named', () => {
  it.each([
    ['rtsp://10.0.0.5:554/live', true],
    ['rtsp://10.0.0.5/live', true],
    ['http://10.0.0.5:8000/onvif/Media', true],
    ['rtsp://CAM.local./live', true],
    ['rtsp://[FE80::1]:554/x', true],
    ['rtsp://10.0.0.6/live', false],
    ['rtsp://10.0.0.5.evil.example/live', false],
    ['rtsp://10.0.0.5@evil.example/live', false],
    ['not a url', false],
  ])('%s → %s', (url, allowed) => {
    expect(mayCarryCredentials(url, ['10.0.0.5', 'cam.local', 'fe80::1'])).toBe(allowed);
  });

  it('credentialHost: lower case, no brackets or port', () => {
    expect(credentialHost('rtsp://Cam.Local:554/x')).toBe('cam.local');
    expect(credentialHost('http://[::1]:8080/')).toBe('::1');
  });
});

describe('withoutUserinfo: the URL as the camera id hashes it', () => {
  it.each([
    ['rtsp://admin:pw@cam/1', 'rtsp://cam/1'],
    ['rtsp://admin:p@ss/w0rd@cam/1', 'rtsp://cam/1'],
    ['rtsp://admin@cam/1', 'rtsp://cam/1'],
    ['rtsp://cam/1', 'rtsp://cam/1'],
    ['/videos/clip@2x.mp4', '/videos/clip@2x.mp4'],
  ])('%s → %s', (url, stripped) => {
    expect(withoutUserinfo(url)).toBe(stripped);
  });
});
