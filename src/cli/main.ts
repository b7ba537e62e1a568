#!/usr/bin/env node
/**
 * The `triton-gateway` bin (package.json "bin" → dist/src/cli/main.js): binds the CLI to the
 * real process. Everything else lives in run.ts so tests can run commands in-process.
 */
import { runCli } from './run.js';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  now: () => new Date(),
  cwd: process.cwd(),
});
