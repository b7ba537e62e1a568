/**
 * Where the CLI reads and writes the governance event log: the file the gateway writes, so
 * `backup record` adds to the same log and `ops postmortem` sees the gateway's events.
 */
import { resolve } from 'node:path';
import type { CliIo } from './io.js';

/** The gateway's own default (`governance.eventLog` in src/config.ts). */
const DEFAULT_EVENT_LOG = './data/governance-events.jsonl';

/** The `--event-log` line of a command's usage text. */
export const EVENT_LOG_OPTION = `  --event-log <path>      governance event log (default $GATEWAY_EVENT_LOG, as the gateway reads it,
                          else $GOVERNANCE_EVENT_LOG, else ${DEFAULT_EVENT_LOG})`;

/**
 * `--event-log`, else GATEWAY_EVENT_LOG (the gateway's variable), else GOVERNANCE_EVENT_LOG (the
 * CLI's older name, kept so existing scripts work), else the gateway's default; empty is unset.
 */
export function eventLogPath(io: CliIo, flag: string | undefined): string {
  return resolve(io.cwd, flag || io.env.GATEWAY_EVENT_LOG || io.env.GOVERNANCE_EVENT_LOG || DEFAULT_EVENT_LOG);
}
