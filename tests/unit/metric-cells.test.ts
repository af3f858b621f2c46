/** Metric cells: bounded series, cumulative histogram buckets, the ISO timestamp fast path. */
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FastCounter, FastHistogram, OVERFLOW_LABEL, registerCellMetric } from '../../src/api/observability/metric-cells.ts';
import { isoMs } from '../../src/api/observability/metrics.ts';

describe('metric cells', () => {
  it('caps the label sets of a metric; the rest goes to `_other`', () => {
    const c = new FastCounter('t_total', 'help', ['a'], 2);
    c.cell('x').inc();
    c.cell('y').inc(2);
    c.cell('z').inc();
    c.cell('w').inc();
    expect(c.cell('x')).toBe(c.cell('x'));
    expect(c.get().values.map((v) => [v.labels['a'], v.value])).toEqual([['x', 1], ['y', 2], [OVERFLOW_LABEL, 2]]);
  });

  it('writes cumulative buckets, +Inf, sum and count in Prometheus text', async () => {
    const registry = new Registry();
    const h = new FastHistogram('t_seconds', 'help', ['k'], [0.1, 1]);
    registerCellMetric(registry, h);
    for (const v of [0.05, 0.1, 0.5, 3]) h.cell('v"\\').observe(v);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE t_seconds histogram');
    expect(text).toContain('t_seconds_bucket{k="v\\"\\\\",le="0.1"} 2');
    expect(text).toContain('t_seconds_bucket{k="v\\"\\\\",le="1"} 3');
    expect(text).toContain('t_seconds_bucket{k="v\\"\\\\",le="+Inf"} 4');
    expect(text).toContain('t_seconds_sum{k="v\\"\\\\"} 3.65');
    expect(text).toContain('t_seconds_count{k="v\\"\\\\"} 4');
    // The direct renderer writes exactly what prom-client writes.
    const c = new FastCounter('c_total', 'a "help"\nline', ['a', 'b']);
    c.cell('1', 'x\ny').inc(3);
    c.cell('2', '').inc();
    const cr = new Registry();
    registerCellMetric(cr, c);
    expect(`${c.toText()}\n`).toBe(await cr.metrics());
    expect(`${h.toText()}\n`).toBe(text);
  });

  it('isoMs equals Date.parse', () => {
    for (const s of ['2026-11-23T10:30:00.123Z', '1970-01-01T00:00:00.000Z', '2024-02-29T23:59:59.999Z', '2026-11-23T10:30:00Z', '2026-11-23T10:30:00.123+02:00']) {
      expect(isoMs(s), s).toBe(Date.parse(s));
    }
  });
});
