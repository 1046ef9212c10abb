import { once } from 'node:events';
import { type AddressInfo, createServer, type Server } from 'node:net';

/**
 * The one port-0 listen of the tests: `server` (a net, http or https server) listens on a free
 * port of `host` (loopback), and this resolves with that port once it does.
 */
export async function listenOnFreePort(server: Server, host = '127.0.0.1'): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** A TCP port free on 127.0.0.1 right now (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenOnFreePort(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}
