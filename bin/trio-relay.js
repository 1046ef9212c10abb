#!/usr/bin/env -S node --max-semi-space-size=2 --liftoff-only
// Shim: the CLI lives in the compiled dist/ (built by `npm ci` through `prepare`).
// The shebang keeps V8's young generation small (a 2 MiB semi-space, not the default's up to 16):
// the relay's garbage is short-lived (events, chunks, ffmpeg lines), and with 32 cameras the
// default's peak RSS was 131 MiB against 105 MiB with it (`npm run bench`, scale scenario).
// --liftoff-only: undici parses HTTP with a WebAssembly module; V8 first compiles it with its
// baseline compiler (Liftoff) and then, a few seconds after the first request, again with TurboFan
// in the background, a ~30 MiB RSS spike that stays as the process's peak (one live camera: peak
// 114 MiB without the flag, 81 MiB with it). The parser only reads the ingest's short answers, so
// the optimized code buys nothing. Run as `trio-relay` or by this path to get both flags;
// `node bin/trio-relay.js` runs without them.
// A stop signal that arrives while the CLI is still loading is kept and handled as an ordinary
// stop once it runs, rather than killing the process by the signal's default action.
const early = [];
const keep = (signal) => early.push(signal);
process.on('SIGTERM', keep);
process.on('SIGINT', keep);
// Also the sign, in `ps` and /proc/<pid>/cmdline, that stop signals are handled from here on; and the
// flags (a --token among them) are no longer shown to other users by `ps`.
process.title = 'trio-relay';
const release = () => {
  process.off('SIGTERM', keep);
  process.off('SIGINT', keep);
};
const { main } = await import('../dist/cli/main.js');

// Exit explicitly: a stray handle (a keep-alive socket, a timer) must never keep a stopped relay alive.
process.exit(await main(process.argv.slice(2), { signals: early, release }));
