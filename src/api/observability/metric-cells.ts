/**
 * @module api/observability/metric-cells — counters and histograms cheap enough for the request path, written in
 * prom-client's text format (`toText`, checked against prom-client in tests) or registered on a
 * prom-client registry. prom-client hashes and validates labels on every `inc`/`observe`; here a
 * label set is resolved once to a cell and an observation is a few array writes.
 */
import type { Registry } from 'prom-client';

type Labels = Readonly<Record<string, string>>;

/** `k="v",…` with Prometheus escaping (backslash, quote, newline), computed once per cell. */
function labelText(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',');
}

/** A number as Prometheus writes it. */
const num = (v: number): string => (Number.isNaN(v) ? 'NaN' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));

/** A value of prom-client's metric interface (what `Registry.getMetricsAsString` reads). */
interface MetricValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly metricName?: string;
}

/** Label value used once a metric has `maxSeries` label sets (bounded cardinality). */
export const OVERFLOW_LABEL = '_other';

/** Shared by both kinds: label sets resolved to cells, bounded. */
abstract class CellMetric<C> {
  private readonly cells = new Map<string, C>();
  private readonly overflowKey: string;
  protected constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly string[],
    private readonly maxSeries: number,
  ) {
    this.overflowKey = labelNames.map(() => OVERFLOW_LABEL).join('\u0000');
  }

  protected abstract newCell(labels: Labels): C;

  /** The cell of one label set (values in `labelNames` order); cache it where it is hot. */
  cell(...values: string[]): C {
    // One or two labels (most metrics): the key without join's intermediate work.
    const key = values.length === 1 ? (values[0] as string) : values.length === 2 ? `${values[0]}\u0000${values[1]}` : values.join('\u0000');
    let c = this.cells.get(key);
    if (c !== undefined) return c;
    const overflow = this.cells.size >= this.maxSeries;
    if (overflow) {
      const other = this.cells.get(this.overflowKey);
      if (other !== undefined) return other;
    }
    const labels: Record<string, string> = {};
    this.labelNames.forEach((n, i) => (labels[n] = overflow ? OVERFLOW_LABEL : (values[i] ?? '')));
    c = this.newCell(labels);
    this.cells.set(overflow ? this.overflowKey : key, c);
    return c;
  }

  protected all(): IterableIterator<C> {
    return this.cells.values();
  }
}

export class CounterCell {
  value = 0;
  readonly text: string;
  constructor(readonly labels: Labels) {
    this.text = labelText(labels);
  }
  inc(by = 1): void {
    this.value += by;
  }
}

/** A monotonically increasing counter (name should end in `_total`). */
export class FastCounter extends CellMetric<CounterCell> {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  constructor(name: string, help: string, labelNames: readonly string[], maxSeries = 2000) {
    super(name, help, labelNames, maxSeries);
  }
  protected newCell(labels: Labels): CounterCell {
    return new CounterCell(labels);
  }
  /** The family in Prometheus text (the same lines prom-client writes), without per-value objects. */
  toText(): string {
    let out = header(this);
    for (const c of this.all()) out += `\n${this.name}${c.text === '' ? '' : `{${c.text}}`} ${num(c.value)}`;
    return out;
  }
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    for (const c of this.all()) values.push({ value: c.value, labels: c.labels });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class HistogramCell {
  /** Per-bucket (not cumulative) counts; the last slot is `+Inf`. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  readonly text: string;
  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    this.text = labelText(labels);
  }
  observe(value: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > (b[i] as number)) i++;
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.sum += value;
    this.count++;
  }
}

/** A histogram with fixed buckets (upper bounds, ascending). */
export class FastHistogram extends CellMetric<HistogramCell> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    private readonly bounds: readonly number[],
    maxSeries = 2000,
  ) {
    super(name, help, labelNames, maxSeries);
  }
  protected newCell(labels: Labels): HistogramCell {
    return new HistogramCell(labels, this.bounds);
  }
  toText(): string {
    let out = header(this);
    const les = this.bounds.map((le) => `le="${num(le)}"`);
    les.push('le="+Inf"');
    for (const c of this.all()) {
      const sep = c.text === '' ? '' : `${c.text},`;
      const plain = c.text === '' ? '' : `{${c.text}}`;
      let cumulative = 0;
      les.forEach((le, i) => {
        cumulative += c.counts[i] ?? 0;
        out += `\n${this.name}_bucket{${sep}${le}} ${num(cumulative)}`;
      });
      out += `\n${this.name}_sum${plain} ${num(c.sum)}\n${this.name}_count${plain} ${num(c.count)}`;
    }
    return out;
  }
  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const c of this.all()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += c.counts[i] ?? 0;
        values.push({ metricName: bucket, labels: { ...c.labels, le }, value: cumulative });
      });
      values.push({ metricName: bucket, labels: { ...c.labels, le: '+Inf' }, value: c.count });
      values.push({ metricName: `${this.name}_sum`, labels: c.labels, value: c.sum });
      values.push({ metricName: `${this.name}_count`, labels: c.labels, value: c.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

function header(m: { name: string; help: string; type: string }): string {
  return `# HELP ${m.name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${m.name} ${m.type}`;
}

/** Registers a cell metric on a prom-client registry (it reads `name`, `help`, `type` and `get()`). */
export function registerCellMetric(registry: Registry, metric: FastCounter | FastHistogram): void {
  registry.registerMetric(metric as unknown as Parameters<Registry['registerMetric']>[0]);
}
