#!/usr/bin/env node
// Docker HEALTHCHECK: exit 0 when the relay's /healthz answers 200, else 1 (with the reason on
// stderr, which `docker inspect` shows). It asks the port and host the relay was given through
// TRIO_METRICS_PORT / TRIO_METRICS_HOST; a wildcard host is reached on loopback.
const port = process.env.TRIO_METRICS_PORT || '9464';
const configured = process.env.TRIO_METRICS_HOST || '127.0.0.1';
const host = ['0.0.0.0', '::', '[::]'].includes(configured) ? '127.0.0.1' : configured;
const url = `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}/healthz`;

try {
  const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
  if (response.status !== 200) {
    console.error(`${url} answered ${response.status}`);
    process.exit(1);
  }
} catch (error) {
  console.error(`${url}: ${error instanceof Error ? (error.cause?.message ?? error.message) : error}`);
  process.exit(1);
}
