import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';

/** A TCP port free on 127.0.0.1 right now (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
