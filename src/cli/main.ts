#!/usr/bin/env node
/**
 * The `spane` executable (dist/cli.js). Exits with the command's code once it is done, so
 * connections a workflow module left open cannot keep the process alive.
 *
 * @module
 */
import { processIO } from './io.js';
import { runCli } from './program.js';

void runCli(process.argv.slice(2), processIO()).then((code) => process.exit(code));
