/**
 * @module dashboard/pages/telemetry/charts — line and bar charts on uPlot. Imported only by the telemetry page, and
 * only on demand (a dynamic import), so uPlot never weighs on the first load. Colours come from the stylesheet's
 * variables (light or dark); charts follow their container's width.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  /** A CSS colour or `var(--name)`. */
  readonly color: string;
}

export interface Chart {
  destroy(): void;
}

const HEIGHT = 220;

/** The value of a `var(--x)` colour under the page's current colour scheme. */
function color(css: string): string {
  const m = /^var\((--[\w-]+)\)$/.exec(css);
  return m === null ? css : getComputedStyle(document.documentElement).getPropertyValue(m[1] as string).trim() || '#888';
}

function axisStyle(): Pick<uPlot.Axis, 'stroke' | 'grid' | 'ticks'> {
  return { stroke: color('var(--muted)'), grid: { stroke: color('var(--line-soft)'), width: 1 }, ticks: { stroke: color('var(--line)'), width: 1 } };
}

/** Draws into `target` and keeps the chart as wide as it. */
function mount(target: HTMLElement, opts: Omit<uPlot.Options, 'width' | 'height'>, data: uPlot.AlignedData): Chart {
  target.replaceChildren();
  const width = () => Math.max(240, Math.floor(target.clientWidth));
  const plot = new uPlot({ ...opts, width: width(), height: HEIGHT }, data, target);
  const resize = new ResizeObserver(() => {
    if (plot.width !== width()) plot.setSize({ width: width(), height: HEIGHT });
  });
  resize.observe(target);
  target.dataset['rendered'] = 'true';
  return {
    destroy() {
      resize.disconnect();
      plot.destroy();
    },
  };
}

/** Lines over time; `at` in epoch ms. */
export function timeChart(target: HTMLElement, at: readonly number[], series: readonly ChartSeries[], yLabel: string): Chart {
  return mount(
    target,
    {
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: color(s.color), width: 2, points: { show: at.length <= 60 } }))],
      axes: [{ ...axisStyle() }, { ...axisStyle(), label: yLabel, size: 50 }],
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      cursor: { drag: { x: false, y: false } },
    },
    [at.map((t) => t / 1000), ...series.map((s) => [...s.values])],
  );
}

/** Bars per category, side by side when there are two series. `format` labels the y axis and the legend. */
export function barChart(target: HTMLElement, of: string, categories: readonly string[], series: readonly ChartSeries[], format: (v: number) => string, yMax?: number): Chart {
  const xs = categories.map((_, i) => i);
  const short = (s: string) => (s.length > 18 ? `${s.slice(0, 17)}…` : s);
  const width = series.length > 1 ? 0.38 : 0.6;
  const bars = uPlot.paths.bars;
  return mount(
    target,
    {
      series: [
        { label: of, value: (_u, v) => (v === null ? '—' : (categories[v] ?? '')) },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: color(s.color),
          fill: color(s.color),
          width: 0,
          points: { show: false },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)),
          ...(bars === undefined ? {} : { paths: bars({ size: [width, 64], align: (series.length > 1 ? (i === 0 ? -1 : 1) : 0) as -1 | 0 | 1 }) }),
        })),
      ],
      axes: [
        { ...axisStyle(), splits: () => xs, values: (_u, splits) => splits.map((v) => short(categories[v] ?? '')), gap: 6 },
        { ...axisStyle(), size: 60, values: (_u, splits) => splits.map((v) => format(v)) },
      ],
      scales: {
        x: { time: false, range: () => [-0.5, Math.max(0.5, categories.length - 0.5)] },
        y: { range: (_u, _min, max) => [0, yMax ?? Math.max(max * 1.1, 1e-9)] },
      },
      cursor: { drag: { x: false, y: false } },
    },
    [xs, ...series.map((s) => [...s.values])],
  );
}
