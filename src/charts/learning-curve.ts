/**
 * The learning-curve chart as a Vega-Lite spec built from plain curve points: test accuracy
 * against labeled examples, a line per strategy (mean over repeats) with a mean +- std band.
 * The CLI renders it to SVG in Node; the app renders the same spec in the page.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { CurvePoint, StopMarker } from '../engine/results.ts';

export interface LearningCurveOptions {
  title?: string;
  width?: number;
  height?: number;
  /** Accuracy target drawn as a dashed rule. */
  target?: number | null;
  /** "Stop here" markers (`stopMarkers`): a dotted vertical rule per strategy at the labels where its predictions became stable, with its text. */
  stops?: readonly StopMarker[];
}

/** Stable colours per strategy name (random is always grey: the baseline). */
export const STRATEGY_COLORS: Record<string, string> = {
  random: '#8c8c8c',
  entropy: '#1f77b4',
  margin: '#ff7f0e',
  leastConfidence: '#2ca02c',
  ratio: '#9467bd',
  variance: '#8c564b',
  predictiveEntropy: '#17becf',
  bald: '#d62728',
  variationRatio: '#e377c2',
  meanStd: '#bcbd22',
  kmeansDiversity: '#393b79',
  kmeansDiversityRaw: '#637939',
  coreset: '#8c6d31',
  badge: '#843c39',
  marginDiverse: '#7b4173',
};

/** Colours for strategies without a registered one, by position in the run's strategy list. */
export const FALLBACK_COLORS = ['#5254a3', '#8ca252', '#bd9e39', '#ad494a', '#a55194'] as const;

/** A strategy's colour: its registered one, else the fallback palette by its position `index`. */
export function strategyColor(name: string, index: number): string {
  return STRATEGY_COLORS[name] ?? FALLBACK_COLORS[Math.max(0, index) % FALLBACK_COLORS.length]!;
}

export function learningCurveSpec(points: readonly CurvePoint[], options: LearningCurveOptions = {}): TopLevelSpec {
  const strategies = [...new Set(points.map((p) => p.strategy))];
  const values = points.map((p) => ({ ...p, lo: Math.max(0, p.mean - p.std), hi: Math.min(1, p.mean + p.std) }));
  const color = {
    field: 'strategy',
    type: 'nominal' as const,
    title: 'strategy',
    scale: { domain: strategies, range: strategies.map((s, i) => strategyColor(s, i)) },
  };
  const x = { field: 'labeled', type: 'quantitative' as const, title: 'labeled examples' };
  const layers: unknown[] = [
    { mark: { type: 'area', opacity: 0.18 }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
    {
      mark: { type: 'line', point: true, strokeWidth: 2 },
      encoding: {
        x,
        y: { field: 'mean', type: 'quantitative', title: 'test accuracy', scale: { zero: false } },
        color,
        tooltip: [
          { field: 'strategy' }, { field: 'labeled' },
          { field: 'mean', format: '.4f', title: 'accuracy (mean)' }, { field: 'std', format: '.4f' }, { field: 'n', title: 'repeats' },
        ],
      },
    },
  ];
  if (options.target != null) {
    layers.push({ data: { values: [{ target: options.target }] }, mark: { type: 'rule', strokeDash: [4, 4], color: '#555' }, encoding: { y: { field: 'target', type: 'quantitative' } } });
  }
  if (options.stops && options.stops.length > 0) {
    // The text runs up along its rule from the x axis, so markers at different labels do not overlap.
    const stops = [...options.stops];
    layers.push(
      { data: { values: stops }, mark: { type: 'rule', strokeDash: [2, 3], strokeWidth: 1.5 }, encoding: { x: { ...x, field: 'labeled' }, color, tooltip: [{ field: 'text', title: 'stopping advice' }] } },
      {
        data: { values: stops },
        mark: { type: 'text', angle: -90, align: 'left', baseline: 'bottom', dx: 6, dy: -3, fontSize: 11, clip: true },
        encoding: { x: { ...x, field: 'labeled' }, y: { value: { expr: 'height' } }, text: { field: 'text' }, color },
      },
    );
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(options.title ? { title: options.title } : {}),
    width: options.width ?? 560,
    height: options.height ?? 320,
    data: { values },
    layer: layers,
    // Solid legend swatches (the band layer would otherwise lend them its 0.18 opacity).
    config: { legend: { symbolOpacity: 1 } },
  } as TopLevelSpec;
}
