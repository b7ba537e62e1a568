/**
 * The gateway's counters and histograms: prom-client's exposition, a cheaper way to find a label
 * set's series. prom-client's own Counter and Histogram build a string key from the labels on
 * every update (`model_name:llama-3-8b,stream:false,`) and look it up in an object keyed by such
 * strings; a string built anew is not one V8 has interned, so each lookup hashes it and searches
 * the string table, and the histogram's bucket is an object property keyed by the bound's
 * decimal text. With the ~18 updates a request makes, that was ~6% of the event loop's
 * instructions per request with observability on (bench/HISTORY.md, "Metric updates without
 * string keys"). Here a series is found by one `Map` per label name, keyed by the label's value:
 * the values are the same few strings every time (model names from the config, route
 * templates, error codes), whose hashes V8 keeps on the string.
 *
 * The metrics are registered in a prom-client Registry, which renders them from `get()` like its
 * own: the text /metrics serves is the same byte for byte (test/unit/telemetry/labelled-series.test.ts
 * holds them side by side). What is left out is what the gateway does not use: exemplars,
 * `labels()` children, `remove()`, timers, collect callbacks, cluster aggregation.
 */
import type { Metric, Registry } from 'prom-client';

type LabelValue = string | number;
export type LabelSet<T extends string> = Partial<Record<T, LabelValue>>;

interface Configuration<T extends string> {
  name: string;
  help: string;
  labelNames?: readonly T[];
  registers?: Registry[];
}

/** One rendered sample, as prom-client's Registry reads it from `get()`. */
interface Sample {
  labels: Record<string, LabelValue>;
  /** A histogram's series labels, rendered after `le` as prom-client's own histogram does. */
  sharedLabels?: Record<string, LabelValue>;
  value: number;
  metricName?: string;
}

interface Rendered {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: Sample[];
  aggregator: 'sum';
}

/** A Map per label name, the last one holding the series: `undefined` is a value like any other (a label left out). */
type Level<S> = Map<LabelValue | undefined, Level<S> | S>;

abstract class LabelledSeries<T extends string, S extends { labels: Record<string, LabelValue> }> {
  /** Not readonly: prom-client's Registry renames counters when it renders OpenMetrics. */
  name: string;
  readonly help: string;
  readonly labelNames: readonly T[];
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';
  private root: Level<S> = new Map();
  /** Every series in the order it first appeared, which is the order prom-client renders them in. */
  protected all: S[] = [];

  constructor(config: Configuration<T>) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames ?? [];
    // The names Prometheus accepts (prometheus.io/docs/concepts/data_model), checked as prom-client checks them.
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(this.name)) throw new Error(`Invalid metric name: ${this.name}`);
    if (!this.help) throw new Error(`Missing help for ${this.name}`);
    const badLabel = this.labelNames.find((label) => !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(label));
    if (badLabel !== undefined) throw new Error(`Invalid label name on ${this.name}: ${badLabel}`);
    for (const registry of config.registers ?? []) {
      // The Registry renders any object with get(); its typings name only its own four classes.
      registry.registerMetric(this as unknown as Metric);
    }
  }

  protected abstract newSeries(labels: Record<string, LabelValue>): S;

  /** A series without labels exists from the start, as in prom-client: it reads 0 before any update. */
  protected initialise(): void {
    if (this.labelNames.length === 0) this.series({});
  }

  protected series(labels: LabelSet<T>): S {
    const names = this.labelNames;
    let level = this.root;
    // A metric without labels keeps its one series under the key undefined.
    const last = names.length - 1;
    for (let i = 0; i < last; i++) {
      const value = labels[names[i]!];
      let next = level.get(value) as Level<S> | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(value, next);
      }
      level = next;
    }
    const value = last < 0 ? undefined : labels[names[last]!];
    const found = level.get(value) as S | undefined;
    if (found !== undefined) return found;
    const created = this.newSeries(this.ownLabels(labels));
    level.set(value, created);
    this.all.push(created);
    return created;
  }

  /**
   * The labels a new series renders: checked once per series, not per update. A name outside
   * labelNames is refused as prom-client refuses it; an absent value is left out, as there.
   */
  private ownLabels(labels: LabelSet<T>): Record<string, LabelValue> {
    const own: Record<string, LabelValue> = {};
    for (const [name, value] of Object.entries(labels) as [T, LabelValue | undefined][]) {
      if (!this.labelNames.includes(name)) throw new Error(`Added label "${name}" is not included in initial labelset: ${JSON.stringify(this.labelNames)}`);
      if (value !== undefined) own[name] = value;
    }
    return own;
  }

  reset(): void {
    this.root = new Map();
    this.all = [];
    this.initialise();
  }

  protected abstract samples(): Sample[];

  async get(): Promise<Rendered> {
    return { name: this.name, help: this.help, type: this.type, values: this.samples(), aggregator: this.aggregator };
  }
}

function refuseNonFinite(value: number): void {
  if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${String(value)}`);
}

interface CounterSeries {
  labels: Record<string, LabelValue>;
  value: number;
}

export class LabelledCounter<T extends string = string> extends LabelledSeries<T, CounterSeries> {
  readonly type = 'counter';

  constructor(config: Configuration<T>) {
    super(config);
    this.initialise();
  }

  protected newSeries(labels: Record<string, LabelValue>): CounterSeries {
    return { labels, value: 0 };
  }

  /** `inc()`, `inc(n)`, `inc(labels)` or `inc(labels, n)`, as prom-client's; `inc(labels, 0)` creates the series at 0. */
  inc(labelsOrValue?: LabelSet<T> | number, value?: number): void {
    const labels = typeof labelsOrValue === 'object' ? labelsOrValue : {};
    const by = typeof labelsOrValue === 'number' ? labelsOrValue : (value ?? 1);
    refuseNonFinite(by);
    if (by < 0) throw new Error('It is not possible to decrease a counter');
    this.series(labels).value += by;
  }

  protected samples(): Sample[] {
    return this.all.map((s) => ({ labels: s.labels, value: s.value }));
  }
}

interface HistogramSeries {
  labels: Record<string, LabelValue>;
  /** Observations per bucket, not cumulative; the last slot counts those above every bound. */
  counts: number[];
  sum: number;
  count: number;
}

export class LabelledHistogram<T extends string = string> extends LabelledSeries<T, HistogramSeries> {
  readonly type = 'histogram';
  private readonly bounds: readonly number[];

  constructor(config: Configuration<T> & { buckets: readonly number[] }) {
    super(config);
    if (this.labelNames.includes('le' as T)) throw new Error('le is a reserved label keyword');
    this.bounds = [...config.buckets].sort((a, b) => a - b);
    this.initialise();
  }

  protected newSeries(labels: Record<string, LabelValue>): HistogramSeries {
    return { labels, counts: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
  }

  observe(labels: LabelSet<T>, value: number): void {
    refuseNonFinite(value);
    const s = this.series(labels);
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  protected samples(): Sample[] {
    const bucket = `${this.name}_bucket`;
    const out: Sample[] = [];
    for (const s of this.all) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.counts[i]!;
        out.push({ labels: { le: this.bounds[i]! }, sharedLabels: s.labels, value: cumulative, metricName: bucket });
      }
      out.push(
        { labels: { le: '+Inf' }, sharedLabels: s.labels, value: s.count, metricName: bucket },
        { labels: {}, sharedLabels: s.labels, value: s.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: s.labels, value: s.count, metricName: `${this.name}_count` },
      );
    }
    return out;
  }
}
