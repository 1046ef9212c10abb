import { MockAgent } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { RelayError } from '../../src/errors.js';
import { EventBus, type StampedEvent } from '../../src/telemetry/events.js';
import { CloudApi } from '../../src/uploader/cloud.js';
import { UndiciTransport } from '../../src/uploader/http.js';
import { Registration } from '../../src/uploader/registration.js';
import { RetryPacer } from '../../src/uploader/retry-pacer.js';

const CLOUD = 'https://ingest.test';
const agents: MockAgent[] = [];
afterEach(async () => {
  for (const agent of agents.splice(0)) await agent.close();
});

/** A registration against undici's MockAgent answering POST /api/cameras with `status`, in turn. */
function registrationAnswering(...statuses: number[]) {
  const agent = new MockAgent();
  agent.disableNetConnect();
  agents.push(agent);
  for (const status of statuses)
    agent.get(CLOUD).intercept({ path: '/api/cameras', method: 'POST' }).reply(status, '{}');
  const events: StampedEvent[] = [];
  const bus = new EventBus();
  bus.on((e) => events.push(e));
  const fatal: RelayError[] = [];
  const registration = new Registration({
    camera: { cameraId: 'cam1', name: 'Cam 1', kind: 'rtsp' },
    api: new CloudApi(CLOUD, 'secret-token', 'cam1'),
    transport: new UndiciTransport({ connectTimeoutMs: 1000, dispatcher: agent }),
    uploadTimeoutMs: 2000,
    retry: new RetryPacer({ backoff: { baseMs: 1, capMs: 5, retryAfterCapMs: 20 } }),
    emit: bus.forCamera('cam1'),
    onFatal: (error) => fatal.push(error),
  });
  return { registration, events, fatal };
}

describe('Registration', () => {
  it('accepted: registered, and not asked again', async () => {
    const { registration } = registrationAnswering(201);
    expect(registration.state).toBe('pending');
    expect(await registration.ensure(new AbortController().signal)).toBeUndefined();
    expect(registration.state).toBe('registered');
    // No second answer is mocked: a second POST would fail the test with a network error.
    expect(await registration.ensure(new AbortController().signal)).toBeUndefined();
  });

  it('refused for good: refused, not registered, and segments go anyway', async () => {
    const { registration, events } = registrationAnswering(409);
    expect(await registration.ensure(new AbortController().signal)).toBeUndefined();
    expect(registration.state).toBe('refused');
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'log',
        level: 'warn',
        message: expect.stringMatching(/refused \(HTTP 409\)/),
      }),
    );
  });

  it('a 5xx: still pending, with a plan to try again; concurrent attempts share one request', async () => {
    const { registration, events } = registrationAnswering(503, 201);
    const signal = new AbortController().signal;
    const [first, second] = await Promise.all([registration.ensure(signal), registration.ensure(signal)]);
    expect(first).toBeDefined();
    expect(second).toBe(first);
    expect(registration.state).toBe('pending');
    expect(events.filter((e) => e.type === 'error' && e.code === 'ERR_REGISTER')).toHaveLength(1);
    await registration.ensure(signal);
    expect(registration.state).toBe('registered');
  });

  it('a refused key is fatal and leaves it pending', async () => {
    const { registration, fatal } = registrationAnswering(401);
    await registration.ensure(new AbortController().signal);
    expect(registration.state).toBe('pending');
    expect(fatal).toHaveLength(1);
  });
});
