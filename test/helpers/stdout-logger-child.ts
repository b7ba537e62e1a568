/**
 * A child for test/unit/telemetry/logger.test.ts: the gateway's logger on real stdout. Logs one
 * line, says on stderr when `flushEveryMs` × 3 have passed, logs a last line and exits at once.
 */
import { createLogger, flushEveryMs } from '../../src/telemetry/logger.js';

const log = createLogger({ level: 'info', logPrompts: false });
log.info({ n: 1 }, 'first line');
setTimeout(() => {
  process.stderr.write('checkpoint\n');
  log.info({ n: 2 }, 'last line');
  process.exit(0);
}, flushEveryMs * 3);
