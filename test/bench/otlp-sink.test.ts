/**
 * The benchmark's OTLP receiver runs as a child process: it counts exports and spans (a
 * `"parentSpanId":` is not a span), reports them over /stats, and exits when closed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startOtlpSink } from '../../bench/lib/otlp-sink.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('the OTLP sink counts exports and spans in its own process, and stops on close', async () => {
  const sink = await startOtlpSink();
  try {
    assert.notEqual(sink.pid, process.pid);
    assert.ok(alive(sink.pid));
    assert.match(sink.endpoint, /^http:\/\/127\.0\.0\.1:\d+\/v1\/traces$/);
    assert.deepEqual(await sink.stats(), { exports: 0, bytes: 0, spans: 0 });

    const first = JSON.stringify({
      resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'a1', spanId: 's1', name: 'POST /v1/chat/completions' }] }] }],
    });
    const second = JSON.stringify({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                { traceId: 'a1', spanId: 's2', parentSpanId: 's1', name: 'triton.infer' },
                { traceId: 'a2', spanId: 's3', name: 'POST /v1/completions' },
              ],
            },
          ],
        },
      ],
    });
    assert.equal((first + second).split('"spanId":').length - 1, 3);
    assert.ok(second.includes('"parentSpanId":'));
    for (const body of [first, second]) {
      const res = await fetch(sink.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      assert.equal(res.status, 200);
      await res.text();
    }

    const stats = await sink.stats();
    assert.equal(stats.exports, 2);
    assert.equal(stats.spans, 3);
    assert.equal(stats.bytes, Buffer.byteLength(first) + Buffer.byteLength(second));
  } finally {
    await sink.close();
  }
  // Exited by itself on SIGTERM (code 0), not killed.
  assert.equal(sink.child.exitCode, 0);
  assert.equal(sink.child.signalCode, null);
  assert.equal(alive(sink.pid), false);
  await assert.rejects(sink.stats());
});
