import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FileSchema, readConfigFile } from '../../src/config/config-file.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers/temp-dir.js';

const schema: FileSchema = {
  source: 'string',
  token: 'string',
  fps: 'number',
  'segment-duration': 'number',
  'upload-timeout': 'duration',
  verbose: 'boolean',
  fault: 'array',
};

function file(text: string): string {
  const path = join(tempDir('config-file-'), 'relay.yaml');
  writeFileSync(path, text);
  return path;
}

function error(path: string): string {
  try {
    readConfigFile(path, schema);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).exitCode).toBe(2);
    const message = (e as Error).message;
    expect(message).not.toContain('\n');
    return message;
  }
  throw new Error('expected a ConfigError');
}

describe('readConfigFile', () => {
  it('reads YAML and JSON, numbers and durations as written', () => {
    const yaml = file(
      'source: rtsp://cam/s\nfps: 0.5\nupload-timeout: 500ms\nverbose: true\nfault: [503x1]\n',
    );
    expect(readConfigFile(yaml, schema)).toEqual({
      source: 'rtsp://cam/s',
      fps: 0.5,
      'upload-timeout': '500ms',
      verbose: true,
      fault: ['503x1'],
    });
    expect(readConfigFile(file('{"segment-duration": 2, "upload-timeout": 30}'), schema)).toEqual({
      'segment-duration': 2,
      'upload-timeout': 30,
    });
    expect(readConfigFile(file(''), schema)).toEqual({});
  });

  it.each([
    ['sorce: x\n', /: unknown key "sorce"$/],
    ['segmentDuration: 2\n', /: unknown key "segmentDuration" \(did you mean "segment-duration"\?\)$/],
    ['segment_duration: 2\n', /did you mean "segment-duration"/],
    ['fps: [1, 2]\n', /: key "fps" must be a number, not a list$/],
    ['verbose: yes please\n', /: key "verbose" must be true or false, not a string$/],
    ['source:\n', /: key "source" must be a string, not empty \(null\)$/],
    ['token: 0123\n', /: key "token" must be a string, not a number \(put it in quotes\)$/],
    ['upload-timeout: {a: 1}\n', /: key "upload-timeout" must be a duration .*, not a mapping$/],
    ['- fps: 1\n', /: expected a mapping of settings \(key: value\), got a list$/],
    ['fps: 1\nfps: 2\n', /: not valid YAML or JSON at line 2, column 1: Map keys must be unique$/],
  ])('%j', (text, message) => {
    const path = file(text);
    const line = error(path);
    expect(line.startsWith(`config file ${path}: `)).toBe(true);
    expect(line).toMatch(message);
  });

  it('never quotes the file: a broken line may hold the token', () => {
    const line = error(file('token: "s3cret-key\nfps: 1\n'));
    expect(line).toMatch(/not valid YAML or JSON at line \d+, column \d+: /);
    expect(line).not.toContain('s3cret');
    expect(error(file('token: [s3cret]\n'))).not.toContain('s3cret');
  });

  it.each([
    [
      'an alias with no anchor',
      'fps: 1\ntoken: *s3cret\n',
      'at line 2, column 8: an alias (*name) with no anchor',
    ],
    [
      'an alias bomb',
      `a: &a [s3cret, s3cret, s3cret, s3cret, s3cret, s3cret, s3cret, s3cret, s3cret]\n${'bcdefgh'
        .split('')
        .map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdefg'[i]}`).join(', ')}]`)
        .join('\n')}\n`,
      'at line 2, column 8: aliases that expand past 100 values (an alias bomb?)',
    ],
    [
      'an unknown tag (only a warning to the parser)',
      'token: !s3cret x\n',
      'at line 1, column 8: an unknown tag',
    ],
    ['a bad escape', 'token: "s3\\qcret"\n', 'at line 1, column 11: an unknown \\ escape'],
    ['a block scalar header with text', 'token: |s3cret\n  x\n', 'at line 1, column 9: unexpected text'],
    ['deep nesting', `token: ${'['.repeat(10_000)}\n`, 'values nested too deep'],
  ])('YAML it refuses, %s: the place, never the text', (_what, text, message) => {
    const path = file(text);
    const line = error(path);
    expect(line.startsWith(`config file ${path}: not valid YAML or JSON at line `)).toBe(true);
    expect(line).toContain(message);
    expect(line).not.toMatch(/s3|cret/);
  });

  it('aliases within the limit are read', () => {
    expect(readConfigFile(file('source: &s testsrc\nfault: [*s, *s]\n'), schema)).toEqual({
      source: 'testsrc',
      fault: ['testsrc', 'testsrc'],
    });
  });

  it.each(['source: ""\n', "source: '  '\n", 'fault: [503x1, ""]\n'])('an empty string: %j', (text) => {
    expect(error(file(text))).toMatch(/: key "(source|fault)" is empty$/);
  });

  it('an unreadable file', () => {
    expect(error('/nonexistent/relay.yaml')).toBe(
      'config file /nonexistent/relay.yaml: cannot read it (ENOENT)',
    );
    const dir = tempDir('config-dir-');
    mkdirSync(join(dir, 'relay.yaml'));
    expect(error(join(dir, 'relay.yaml'))).toMatch(/cannot read it \(EISDIR\)$/);
  });
});

describe('readConfigFile: a list of mappings (cameras:)', () => {
  const lists = { cameras: { id: 'string', source: 'string', fps: 'number' } satisfies FileSchema };
  const listError = (text: string) => {
    try {
      readConfigFile(file(text), schema, lists);
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as Error).message;
    }
    throw new Error('expected a ConfigError');
  };

  it('reads each item with its own schema', () => {
    const values = readConfigFile(
      file(
        'fps: 2\ncameras:\n  - id: a\n    source: testsrc\n  - id: b\n    source: rtsp://h/s\n    fps: 5\n',
      ),
      schema,
      lists,
    );
    expect(values.cameras).toEqual([
      { id: 'a', source: 'testsrc' },
      { id: 'b', source: 'rtsp://h/s', fps: 5 },
    ]);
  });

  it('names the item and the key, never the value', () => {
    expect(listError('cameras:\n  - id: a\n    source: rtsp://u:hunter22@h/s\n    fsp: 2\n')).toMatch(
      /cameras\[0\]: unknown key "fsp"$/,
    );
    expect(listError('cameras:\n  - id: a\n    fps: [1]\n')).toMatch(
      /cameras\[0\]: key "fps" must be a number, not a list$/,
    );
    expect(listError('cameras: testsrc\n')).toMatch(
      /key "cameras" must be a list of mappings, not a string$/,
    );
    expect(listError('cameras:\n  - testsrc\n')).toMatch(
      /cameras\[0\] must be a mapping \(key: value\), not a string$/,
    );
    expect(listError('Cameras: []\n')).toMatch(/unknown key "Cameras" \(did you mean "cameras"\?\)$/);
  });
});
