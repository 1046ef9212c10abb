#!/usr/bin/env node
// Shim: the CLI lives in the compiled dist/ (built by `npm ci` through `prepare`).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
