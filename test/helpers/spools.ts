import { onTestFinished } from 'vitest';
import { Spool, type SpoolOptions } from '../../src/spool/spool.js';

/**
 * `Spool.create` for the calling test: the spool is closed when the test ends, passed or failed,
 * so no journal file handle is left for the garbage collector to close (Node warns, and will throw).
 */
export async function openSpool(options: SpoolOptions): Promise<Spool> {
  const spool = await Spool.create(options);
  onTestFinished(async () => {
    await spool.close();
  });
  return spool;
}
