import { describe, expect, it } from 'vitest';
import { hasUserinfo, withCredentials } from '../../src/camera/credentials.js';
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
