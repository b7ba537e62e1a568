/**
 * Preloaded with `node --import ./dist/src/telemetry/tracing.js` (npm start, the Dockerfile), so
 * the OpenTelemetry SDK is registered before the app's modules load. Configuration: see
 * tracing-setup.ts (the standard OTEL_* variables).
 */
import { startTracing } from './tracing-setup.js';

try {
  await startTracing();
} catch (err) {
  process.stderr.write(`triton-gateway: tracing not started: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
}
