/**
 * A span exporter that says when exports start failing and when they succeed again, once per run
 * of failures. The SDK reports a failed export only to the OpenTelemetry diagnostic logger, which
 * is silent unless one is set, so a collector that is down or misnamed would lose every span
 * without a word.
 */
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';

/** ExportResultCode.SUCCESS of @opentelemetry/core, which the SDK uses but this package does not depend on directly. */
const EXPORT_SUCCEEDED = 0;

export interface ExportFailureEvents {
  failing(message: string): void;
  recovered(): void;
}

export function reportingExportFailures(inner: SpanExporter, events: ExportFailureEvents): SpanExporter {
  let failing = false;
  return {
    export(spans, done) {
      inner.export(spans, (result) => {
        if (result.code !== EXPORT_SUCCEEDED && !failing) {
          failing = true;
          events.failing(result.error instanceof Error ? result.error.message : result.error ? String(result.error) : 'the exporter reported a failure');
        } else if (result.code === EXPORT_SUCCEEDED && failing) {
          failing = false;
          events.recovered();
        }
        done(result);
      });
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  };
}

/** The words the gateway says them in (stderr when exporting inline, the processor's warn from the worker). */
export function exportFailingText(message: string): string {
  return `trace export is failing (${message}); spans are lost until it succeeds again (said once until then)`;
}

export const EXPORT_RECOVERED_TEXT = 'trace export succeeds again';
