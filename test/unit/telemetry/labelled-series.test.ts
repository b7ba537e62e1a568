import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { LabelledCounter, LabelledHistogram } from '../../../src/telemetry/labelled-series.js';

const buckets = [0.001, 0.01, 0.1, 1, 10];

/** A fixed sequence of pseudo-random numbers (mulberry32), so a failure can be replayed. */
function sequence(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

describe('labelled series', () => {
  test('render the same /metrics text as prom-client for the same updates', async () => {
    const theirs = new Registry();
    const ours = new Registry();
    const labelNames = ['model_name', 'stream'] as const;
    const reference = {
      histogram: new Histogram({ name: 'ttft_seconds', help: 'h', labelNames, buckets, registers: [theirs] }),
      counter: new Counter({ name: 'tokens_total', help: 'c', labelNames: ['model_name'] as const, registers: [theirs] }),
      bare: new Counter({ name: 'bare_total', help: 'no labels', registers: [theirs] }),
      bareHistogram: new Histogram({ name: 'bare_seconds', help: 'no labels', buckets, registers: [theirs] }),
    };
    const mine = {
      histogram: new LabelledHistogram({ name: 'ttft_seconds', help: 'h', labelNames, buckets, registers: [ours] }),
      counter: new LabelledCounter({ name: 'tokens_total', help: 'c', labelNames: ['model_name'] as const, registers: [ours] }),
      bare: new LabelledCounter({ name: 'bare_total', help: 'no labels', registers: [ours] }),
      bareHistogram: new LabelledHistogram({ name: 'bare_seconds', help: 'no labels', buckets, registers: [ours] }),
    };
    // Values on the bounds, between them, above the last one and zero; a model name the text
    // format must escape.
    const values = [0, 0.0005, 0.001, 0.005, 0.01, 0.1, 0.5, 1, 10, 11, 1e6];
    const models = ['llama-3-8b', 'mistral-7b', 'quote"back\\slash\nnewline'];
    const next = sequence(42);
    for (let i = 0; i < 2_000; i++) {
      const model = pick(next, models);
      const value = pick(next, values);
      // Series first met with the labels in either order, and with a label left out.
      const labels = next() < 0.5 ? { model_name: model, stream: pick(next, ['true', 'false']) } : next() < 0.5 ? { stream: 'true', model_name: model } : { model_name: model };
      reference.histogram.observe(labels, value);
      mine.histogram.observe(labels, value);
      const n = Math.floor(next() * 5);
      reference.counter.inc({ model_name: model }, n);
      mine.counter.inc({ model_name: model }, n);
      if (i % 7 === 0) {
        reference.bare.inc();
        mine.bare.inc();
        reference.bareHistogram.observe(value);
        mine.bareHistogram.observe({}, value);
      }
      if (i % 11 === 0) {
        reference.bare.inc(3);
        mine.bare.inc(3);
      }
    }
    const expected = await theirs.metrics();
    for (const series of ['model_name="mistral-7b",stream="false"', 'stream="true",model_name="llama-3-8b"', 'model_name="llama-3-8b"} ']) {
      assert.ok(expected.includes(series), `the sequence made the series ${series}`);
    }
    assert.equal(await ours.metrics(), expected);
  });

  test('a series created at 0 is rendered before its first event, as the alerts need', async () => {
    const registry = new Registry();
    const overruns = new LabelledCounter({ name: 'overruns_total', help: 'h', labelNames: ['model_name'] as const, registers: [registry] });
    assert.doesNotMatch(await registry.metrics(), /overruns_total\{/);
    overruns.inc({ model_name: 'm' }, 0);
    assert.match(await registry.metrics(), /^overruns_total\{model_name="m"\} 0$/m);
  });

  test('a label given as undefined is one left out (prom-client would write "undefined")', async () => {
    const registry = new Registry();
    const counter = new LabelledCounter({ name: 'x_total', help: 'h', labelNames: ['a', 'b'] as const, registers: [registry] });
    counter.inc({ a: '1', b: undefined });
    counter.inc({ a: '1' });
    assert.match(await registry.metrics(), /^x_total\{a="1"\} 2$/m);
  });

  test('refuse what prom-client refuses', () => {
    const counter = new LabelledCounter({ name: 'c_total', help: 'h', labelNames: ['model_name'] as const });
    assert.throws(() => counter.inc({ model_name: 'm' }, -1), /not possible to decrease a counter/);
    assert.throws(() => counter.inc({ model_name: 'm' }, Number.NaN), TypeError);
    assert.throws(() => counter.inc({ model_name: 'm', bogus: 'x' } as never), /"bogus" is not included/);
    const histogram = new LabelledHistogram({ name: 'h_seconds', help: 'h', labelNames: ['model_name'] as const, buckets });
    assert.throws(() => histogram.observe({ model_name: 'm' }, Number.POSITIVE_INFINITY), TypeError);
    assert.throws(() => new LabelledHistogram({ name: 'h2', help: 'h', labelNames: ['le'], buckets }), /le is a reserved label/);
    assert.throws(() => new LabelledCounter({ name: 'not a name', help: 'h' }), /Invalid metric name/);
    assert.throws(() => new LabelledCounter({ name: 'c2', help: 'h', labelNames: ['no-dash'] }), /Invalid label name/);
  });

  test('reset() forgets every series but keeps the one of a metric without labels at 0', async () => {
    const registry = new Registry();
    const labelled = new LabelledHistogram({ name: 'l_seconds', help: 'h', labelNames: ['model_name'] as const, buckets, registers: [registry] });
    const bare = new LabelledCounter({ name: 'b_total', help: 'h', registers: [registry] });
    labelled.observe({ model_name: 'm' }, 0.5);
    bare.inc(4);
    labelled.reset();
    bare.reset();
    const text = await registry.metrics();
    assert.doesNotMatch(text, /model_name="m"/);
    assert.match(text, /^b_total 0$/m);
    labelled.observe({ model_name: 'm' }, 0.5);
    assert.match(await registry.metrics(), /^l_seconds_count\{model_name="m"\} 1$/m);
  });
});
