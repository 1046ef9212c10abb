import { readdirSync } from 'node:fs';
import type { IStatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { ConfigMap, type IContainer, type IVolume, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DOCKER_DIR, leastStopTimeoutS, readYamlDocuments } from './recipes.js';

const MANIFESTS = readdirSync(`${DOCKER_DIR}k8s`).filter(
  (f) => f.endsWith('.yaml') && f !== 'kustomization.yaml',
);
const objects = MANIFESTS.flatMap((file) =>
  readYamlDocuments(`docker/k8s/${file}`).map((o) => ({ file, o })),
);
const byKind = (kind: string) => objects.filter(({ o }) => o.kind === kind).map(({ o }) => o);

/** kubernetes-models' classes validate against the Kubernetes OpenAPI schemas they vendor. */
const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  StatefulSet,
  Service,
  ConfigMap,
  Secret,
};

const statefulSet = byKind('StatefulSet')[0] as unknown as IStatefulSet;
const pod = statefulSet.spec!.template.spec!;
const relay = pod.containers.find((c) => c.name === 'relay') as IContainer;
const env = new Map((relay.env ?? []).map((e) => [e.name, e]));
const volume = (name: string) => pod.volumes!.find((v) => v.name === name) as IVolume;
const mountOf = (volumeName: string) => relay.volumeMounts!.find((m) => m.name === volumeName)!;
const configMap = byKind('ConfigMap')[0] as { metadata: { name: string }; data: Record<string, string> };

describe('docker/k8s', () => {
  it.each(objects.map(({ file, o }) => [file, o.kind as string, o] as const))(
    '%s: %s is valid against the Kubernetes API schema',
    (_, kind, object) => {
      const Model = MODELS[kind];
      expect(Model, `no schema for ${kind}`).toBeDefined();
      expect(() => new Model!(object as never).validate()).not.toThrow();
    },
  );

  it('the schemas catch a wrong type (they do not catch a misspelt key: the checks below name each field)', () => {
    const broken = structuredClone(statefulSet) as unknown as { spec: { replicas: unknown } };
    broken.spec.replicas = 'two';
    expect(() => new StatefulSet(broken as never).validate()).toThrow(/replicas/);
  });

  it('kustomization.yaml lists every manifest but the Secrets, which are created from files', () => {
    const [kustomization] = readYamlDocuments('docker/k8s/kustomization.yaml') as [{ resources: string[] }];
    const withSecrets = new Set(objects.filter(({ o }) => o.kind === 'Secret').map(({ file }) => file));
    expect(kustomization.resources.sort()).toEqual(MANIFESTS.filter((f) => !withSecrets.has(f)).sort());
  });

  it('the StatefulSet gives every relay its own persistent spool volume', () => {
    const [claim] = statefulSet.spec!.volumeClaimTemplates!;
    expect(claim!.spec!.accessModes).toEqual(['ReadWriteOnce']);
    expect(mountOf(claim!.metadata!.name!).mountPath).toBe('/var/spool/trio-relay');
    expect(env.get('TRIO_SPOOL_DIR')?.value).toBe('/var/spool/trio-relay/spool');
    const headless = byKind('Service')[0] as { metadata: { name: string }; spec: { clusterIP: string } };
    expect(statefulSet.spec!.serviceName).toBe(headless.metadata.name);
    expect(headless.spec.clusterIP).toBe('None');
  });

  it('terminationGracePeriodSeconds fits the drain timeout of every relay config', () => {
    for (const [key, text] of Object.entries(configMap.data)) {
      const drain = (parse(text) as Record<string, unknown>)['drain-timeout'];
      expect(pod.terminationGracePeriodSeconds, key).toBeGreaterThanOrEqual(leastStopTimeoutS(drain));
    }
  });

  it('probes liveness on /healthz and readiness on /readyz, and is scraped by Prometheus', () => {
    const port = relay.ports!.find((p) => p.name === 'metrics')!;
    expect(port.containerPort).toBe(9464);
    expect(env.get('TRIO_METRICS_PORT')?.value).toBe(String(port.containerPort));
    expect(env.get('TRIO_METRICS_HOST')?.value).toBe('0.0.0.0');
    expect(relay.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(relay.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(statefulSet.spec!.template.metadata!.annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(port.containerPort),
      'prometheus.io/path': '/metrics',
    });
  });

  it('runs unprivileged; the token and camera passwords are Secret files readable by its group only', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, fsGroup: 1000 });
    expect(relay.securityContext).toMatchObject({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
    });
    for (const name of ['token', 'cameras']) {
      expect(volume(name).secret?.defaultMode, name).toBe(0o440);
      expect(mountOf(name).readOnly, name).toBe(true);
    }
    expect(JSON.stringify(relay)).not.toMatch(/TRIO_TOKEN"|TRIO_SOURCE|password/i);
  });

  it('each pod reads the config file named after it, from a whole-directory ConfigMap mount (so updates reach it)', () => {
    expect(env.get('POD_NAME')?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(relay.args).toEqual(['--config', `${mountOf('config').mountPath}/$(POD_NAME).yaml`]);
    expect(mountOf('config').subPath).toBeUndefined();
    expect(volume('config').configMap?.name).toBe(configMap.metadata.name);
    const podNames = Array.from(
      { length: statefulSet.spec!.replicas! },
      (_, n) => `${statefulSet.metadata!.name}-${n}.yaml`,
    );
    expect(Object.keys(configMap.data).sort()).toEqual(podNames);
  });

  // The multi-camera file's parser is not on this branch yet: this checks the structure only.
  it('the ConfigMap holds one multi-camera config per pod: flag-named keys, a cameras list, unique pinned ids', () => {
    const tokenDir = mountOf('token').mountPath;
    const passwordDir = mountOf('cameras').mountPath;
    const secretKeys = new Set(
      byKind('Secret').flatMap((s) => Object.keys((s as { stringData: Record<string, string> }).stringData)),
    );
    const ids: string[] = [];
    for (const [key, text] of Object.entries(configMap.data)) {
      const config = parse(text) as Record<string, unknown> & { cameras: Record<string, unknown>[] };
      for (const name of Object.keys(config)) expect(name, key).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(config['token-file'], key).toBe(`${tokenDir}/token`);
      expect(config.token, key).toBeUndefined();
      // Set by the pod's environment, which would win over the file.
      for (const envSet of ['spool-dir', 'metrics-port', 'metrics-host'])
        expect(config[envSet], key).toBeUndefined();
      expect(config.cameras.length, key).toBeGreaterThan(0);
      for (const camera of config.cameras) {
        expect(camera.id, key).toMatch(/^[a-z0-9-]+$/);
        ids.push(camera.id as string);
        expect(camera.source, key).toMatch(/^rtsps?:\/\/[^@]+$/); // no user:password in the URL
        expect(camera.password, key).toBeUndefined();
        const passwordFile = camera['password-file'] as string;
        expect(passwordFile.startsWith(`${passwordDir}/`), key).toBe(true);
        expect(secretKeys.has(passwordFile.slice(passwordDir!.length + 1)), `${key}: ${passwordFile}`).toBe(
          true,
        );
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('docker/k8s ConfigMap through the relay’s own parser', () => {
  it.each(Object.keys(configMap.data))('%s is a config the relay accepts', async (file) => {
    const { mkdtempSync, mkdirSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join, dirname } = await import('node:path');
    const { parseCommandLine } = await import('../../src/cli/commands.js');
    const { SettingSources } = await import('../../src/cli/settings.js');
    const { resolveFleet } = await import('../../src/cli/camera-sources.js');
    // The pod's secret mounts, recreated under a temp dir: the config names them by path.
    const root = mkdtempSync(join(tmpdir(), 'k8s-config-'));
    const text = configMap.data[file]!.replaceAll('/run/secrets/', `${root}/secrets/`);
    for (const [, path] of text.matchAll(/(?:token-file|password-file): (\S+)/g)) {
      mkdirSync(dirname(path!), { recursive: true });
      writeFileSync(path!, 'not-the-real-secret\n');
    }
    const configPath = join(root, file);
    writeFileSync(configPath, text);
    // The image's TRIO_SPOOL_DIR is the spool dir; here a temp one.
    const argv = ['--config', configPath, '--spool-dir', mkdtempSync(join(tmpdir(), 'k8s-spool-'))];
    const invocation = await parseCommandLine(argv, new SettingSources());
    expect(invocation.command).toBe('relay');
    const fleet = await resolveFleet(invocation as never, { signal: new AbortController().signal });
    const ids = fleet.cameras.map((c) => c.cameraId);
    expect(ids.length).toBeGreaterThan(0);
    for (const camera of fleet.cameras) {
      // The password is in the URL ffmpeg gets, never in what is shown.
      if (/password-file/.test(text)) expect(camera.source.input).toContain('not-the-real-secret');
      expect(camera.source.display).not.toContain('not-the-real-secret');
    }
  });
});
