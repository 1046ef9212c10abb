import { parseDurationMs } from '../config/parse.js';
import { ExitCode } from '../errors.js';
import { discoverOnvifDevices } from '../onvif/index.js';
import { DISCOVER_DEFAULTS, type DiscoverFlags } from './discover-settings.js';
import { describeDevice, parseDiscoverAddress } from './onvif-source.js';

/** `trio-relay discover`: the ONVIF devices that answer a WS-Discovery probe, as a table or JSON. */
export async function runDiscoverCommand(flags: DiscoverFlags, signal: AbortSignal): Promise<number> {
  const timeoutMs = parseDurationMs('timeout', flags.timeout ?? DISCOVER_DEFAULTS.timeout, {
    min: 100,
    max: 60_000,
  });
  const target = parseDiscoverAddress(flags.discoverAddress);
  let devices: Awaited<ReturnType<typeof discoverOnvifDevices>>;
  try {
    devices = await discoverOnvifDevices({ target, timeoutMs, signal });
  } catch (error) {
    if (signal.aborted) return ExitCode.ok;
    throw error;
  }
  if (flags.json) {
    const listed = devices.map((d) => ({
      address: d.address,
      service: d.xaddrs[0],
      endpoint: d.endpoint,
      name: d.name ?? null,
      manufacturer: d.manufacturer ?? null,
      model: d.model ?? null,
      credentials: d.credentials,
      scopes: d.scopes,
    }));
    process.stdout.write(`${JSON.stringify({ v: 1, type: 'discover', devices: listed })}\n`);
    return ExitCode.ok;
  }
  for (const device of devices) process.stdout.write(`${describeDevice(device)}  ${device.xaddrs[0]}\n`);
  process.stderr.write(
    devices.length > 0
      ? `${devices.length} ONVIF device(s) answered within ${timeoutMs / 1000}s: relay one with --host ADDRESS --user U --password-file F\n`
      : `no ONVIF device answered a probe to ${target.address}:${target.port} within ${timeoutMs / 1000}s (multicast blocked? try --discover-address ADDRESS:PORT)\n`,
  );
  return ExitCode.ok;
}
