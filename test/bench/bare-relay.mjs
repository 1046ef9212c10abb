// The least a relay can be: `ffmpeg -c copy -f segment` listing each closed segment on its
// stdout, and a keep-alive undici loop posting each one as it closes, then deleting it. No spool,
// no journal, no retries, no events: what the live benchmark's "relay over the floor" divides by.
// Usage: node bare-relay.mjs <rtsp url> <ingest url> <token> <camera> <dir>
// Prints one line, "up <ffmpeg pid>", once ffmpeg runs; stops on SIGTERM.
import { spawn } from 'node:child_process';
import { createReadStream, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, request } from 'undici';

const [source, url, token, camera, dir] = process.argv.slice(2);
const agent = new Agent({ keepAliveTimeout: 10_000 });
const ffmpeg = spawn(
  'ffmpeg',
  [
    ...['-hide_banner', '-loglevel', 'error', '-rtsp_transport', 'tcp', '-i', source],
    ...['-map', '0:v', '-c', 'copy', '-f', 'segment', '-segment_time', '2', '-reset_timestamps', '1'],
    ...['-segment_list', 'pipe:1', '-segment_list_type', 'flat', join(dir, 'seg%06d.ts')],
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
process.stdout.write(`up ${ffmpeg.pid}\n`);
let sequence = 0;
let queue = Promise.resolve();
createInterface({ input: ffmpeg.stdout }).on('line', (name) => {
  const file = join(dir, name.trim());
  const seq = sequence++;
  queue = queue.then(() => post(file, seq)).catch((error) => process.stderr.write(`${error}\n`));
});

async function post(file, seq) {
  const response = await request(`${url}/api/stream/ingest/${camera}`, {
    method: 'POST',
    dispatcher: agent,
    headers: {
      'x-api-key': token,
      'content-type': 'video/mp2t',
      'content-length': String(statSync(file).size),
      'idempotency-key': `${camera}:bare:${seq}`,
      'x-segment-sequence': String(seq),
    },
    body: createReadStream(file),
  });
  await response.body.dump();
  unlinkSync(file);
}

process.on('SIGTERM', () => {
  ffmpeg.kill('SIGTERM');
  void queue.then(() => agent.close()).then(() => process.exit(0));
});
