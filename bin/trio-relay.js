#!/usr/bin/env node
// Shim: the CLI lives in the compiled dist/ (built by `npm ci` through `prepare`).
import { main } from '../dist/cli/main.js';

// Exit explicitly: a stray handle (a keep-alive socket, a timer) must never keep a stopped relay alive.
process.exit(await main(process.argv.slice(2)));
