import { describe, expect, it } from 'vitest';
import { MAX_NESTING, tooDeepAt } from '../../src/config/yaml-depth.js';

describe('tooDeepAt: nesting refused before the yaml parser recurses into it', () => {
  it('finds where flow brackets nest past the limit', () => {
    expect(tooDeepAt(`token: ${'['.repeat(10_000)}\n`)).toEqual({
      line: 1,
      col: 'token: '.length + MAX_NESTING + 1,
    });
    expect(tooDeepAt(`a: 1\nb: ${'{x: '.repeat(MAX_NESTING + 1)}`)).toMatchObject({ line: 2 });
  });

  it('counts block nesting: indentation and sequence indicators', () => {
    expect(tooDeepAt(`${'- '.repeat(MAX_NESTING + 1)}x\n`)).toMatchObject({ line: 1 });
  });

  it('leaves brackets in quotes and comments alone, and a real config passes', () => {
    const brackets = '['.repeat(MAX_NESTING + 1);
    expect(tooDeepAt(`name: "${brackets}"\nother: '${brackets}'\n# ${brackets}\nx: 1 # ${brackets}\n`)).toBe(
      undefined,
    );
    const config = [
      'cloud: https://ingest.example',
      'cameras:',
      '  - id: door',
      '    source: rtsp://cam/stream',
      '    fault: [503x1, { kind: hang }]',
      '  - id: yard',
      '    source: "rtsp://cam/[odd]"',
    ].join('\n');
    expect(tooDeepAt(config)).toBe(undefined);
  });
});
