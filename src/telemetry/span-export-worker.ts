/**
 * The span export worker: a worker thread that runs the SDK's BatchSpanProcessor and the
 * exporter the OTEL_* variables choose (createTraceExporter), fed with the batches the event
 * loop's WorkerSpanProcessor posts. Serialising spans and sending them is all done here, away
 * from the thread that serves requests.
 */
import { parentPort } from 'node:worker_threads';
import { BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { reportingExportFailures } from './export-failure-reporter.js';
import { readableSpans } from './span-batch.js';
import { batchSpanProcessorConfig, createTraceExporter } from './tracing-setup.js';
import type { ToWorker, FromWorker } from './span-export-messages.js';

const port = parentPort;
if (!port) throw new Error('span-export-worker.ts runs as a worker thread');

function send(message: FromWorker): void {
  port!.postMessage(message);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

let processor: BatchSpanProcessor;
let exporter: SpanExporter | undefined;
try {
  // The worker's process.env is the env the processor was given (its Worker `env` option): the
  // exporters read their OTEL_EXPORTER_* variables from it themselves.
  const created = await createTraceExporter(process.env);
  if (!created) throw new Error('OTEL_TRACES_EXPORTER selects no exporter');
  exporter = reportingExportFailures(created, { failing: (message) => send({ type: 'exportFailed', message }), recovered: () => send({ type: 'exportRecovered' }) });
  processor = new BatchSpanProcessor(exporter, batchSpanProcessorConfig(process.env, 'worker'));
  send({ type: 'ready' });
} catch (err) {
  send({ type: 'failed', message: errorText(err) });
  process.exit(1);
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'spans': {
      for (const span of readableSpans(message.batch)) processor.onEnd(span);
      send({ type: 'taken', spans: message.batch.count });
      return;
    }
    case 'flush':
    case 'shutdown': {
      // The SDK's forceFlush() exports what its buffer holds but does not wait for an export it
      // had already started when a batch filled; the exporter's own forceFlush() waits for every
      // send in flight (its shutdown() does, which is why shutdown needs no second step).
      const done = message.type === 'flush' ? processor.forceFlush().then(() => exporter?.forceFlush?.()) : processor.shutdown();
      done.then(
        () => send({ type: 'done', id: message.id }),
        (err: unknown) => send({ type: 'done', id: message.id, error: errorText(err) }),
      );
      return;
    }
  }
});
