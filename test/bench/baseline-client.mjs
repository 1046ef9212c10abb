// The machine's practical limit for the drain benchmark: the least a keep-alive undici client
// can do to post the same files to the same ingest, `concurrency` at a time. Plain JS so it
// starts as fast as node does and carries nothing the relay's uploader would not.
// Usage: node baseline-client.mjs <ingest url> <token> <camera> <concurrency> <file>...
// Prints the milliseconds each POST took, as a JSON array, on stdout.
import { createReadStream, statSync } from 'node:fs';
import { Agent, request } from 'undici';

const [url, token, camera, concurrencyText, ...files] = process.argv.slice(2);
const agent = new Agent({ keepAliveTimeout: 10_000 });
const run = Date.now().toString(36);
let next = 0;
const took = [];

async function worker() {
  while (next < files.length) {
    const sequence = next++;
    const file = files[sequence];
    const began = performance.now();
    const response = await request(`${url}/api/stream/ingest/${camera}`, {
      method: 'POST',
      dispatcher: agent,
      headers: {
        'x-api-key': token,
        'content-type': 'video/mp2t',
        'content-length': String(statSync(file).size),
        'idempotency-key': `${camera}:${run}:${sequence}`,
        'x-segment-sequence': String(sequence),
      },
      body: createReadStream(file),
    });
    await response.body.dump();
    took.push(performance.now() - began);
    if (response.statusCode >= 300) throw new Error(`segment ${sequence}: HTTP ${response.statusCode}`);
  }
}

await Promise.all(Array.from({ length: Number(concurrencyText) }, worker));
await agent.close();
process.stdout.write(`${JSON.stringify(took)}\n`);
