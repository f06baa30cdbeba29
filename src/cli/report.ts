/** What the runner prints and draws from results: the summary table and the SVG learning curves. */
import * as vega from 'vega';
import { compile } from 'vega-lite';
import { learningCurveSpec } from '../charts/learning-curve.ts';
import { learningCurves, stopAdviceText, stopMarkers, type ExperimentResults } from '../engine/results.ts';

/**
 * The summary table printed at the end; with the stopping advice, a column for where predictions
 * became stable (labels, labels it saves, accuracy it gives up against the last round).
 */
export function summaryTable(results: ExperimentResults): string {
  const advice = results.summary.some((s) => s.stopping);
  const rows = results.summary.map((s) => [
    s.strategy,
    `${(s.finalAccuracy.mean * 100).toFixed(2)}% ± ${(s.finalAccuracy.std * 100).toFixed(2)}`,
    s.alc.toFixed(4),
    s.labelsToTarget.mean === null ? 'not reached' : `${Math.round(s.labelsToTarget.mean)} (${s.labelsToTarget.reached}/${s.repeats})`,
    ...(advice ? [s.stopping ? stopAdviceText(s.stopping.find((x) => x.criterion === 'stabilizing')!, s.repeats) : '—'] : []),
  ]);
  const head = ['strategy', 'final accuracy (mean ± std)', 'ALC', `labels to ${(results.config.target * 100).toFixed(0)}%`, ...(advice ? ['predictions stable at'] : [])];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

export async function renderChartSvg(results: ExperimentResults): Promise<string> {
  const c = results.config;
  const spec = learningCurveSpec(learningCurves(results.runs), {
    title: `${c.dataset} / ${c.model}: ${c.initial} initial + ${c.query} per round, ${c.repeats} repeat${c.repeats > 1 ? 's' : ''} (mean ± std)`,
    target: c.target,
    stops: stopMarkers(results.runs),
  });
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

