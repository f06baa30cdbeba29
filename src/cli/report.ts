/** What the runner prints and draws from results: the summary table and the SVG learning curves. */
import { learningCurveSpec } from '../charts/learning-curve.ts';
import {
  areaUnderLearningCurve, learningCurves, std, stopAdviceText, stopMarkers, type ExperimentResults, type PairedStat, type StrategySummary,
} from '../engine/results.ts';

/** "+0.0123 [-0.0040, +0.0290] p=0.250/0.250": the mean difference, its 95% interval, Wilcoxon p / permutation p. */
export function pairedText(p: PairedStat | null, digits: number): string {
  if (p === null) return '-';
  const f = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}`;
  return `${f(p.meanDifference)} [${f(p.low)}, ${f(p.high)}] p=${p.wilcoxonP.toFixed(3)}/${p.permutationP.toFixed(3)}${p.pairs < 6 ? ` (n=${p.pairs})` : ''}`;
}

/**
 * The summary table printed at the end. With 2 or more repeats, each strategy against random:
 * the paired difference in ALC and in labels-to-target, its 95% bootstrap interval, and the
 * exact Wilcoxon signed-rank and permutation p-values, with a line that says so. With the
 * stopping advice, a column for where predictions became stable (labels, labels it saves,
 * accuracy it gives up against the last round).
 */
export function summaryTable(results: ExperimentResults): string {
  const advice = results.summary.some((s) => s.stopping);
  const paired = results.summary.some((s) => s.vsRandom !== null);
  const rows = results.summary.map((s) => [
    s.strategy,
    s.finalAccuracy === null ? 'none (no labeled test data)' : `${(s.finalAccuracy.mean * 100).toFixed(2)}% ± ${(s.finalAccuracy.std * 100).toFixed(2)}`,
    s.alc === null ? '—' : alcText(s.alc, s, results),
    labelsText(s),
    ...(paired ? [pairedText(s.vsRandom?.alc ?? null, 4), pairedText(s.vsRandom?.labelsToTarget ?? null, 1)] : []),
    ...(advice ? [s.stopping ? stopAdviceText(s.stopping.find((x) => x.criterion === 'stabilizing')!, s.repeats) : '—'] : []),
  ]);
  const head = [
    'strategy', 'final accuracy (mean ± std)', 'ALC', `labels to ${(results.config.target * 100).toFixed(0)}% (mean ± std, reached)`,
    ...(paired ? ['ALC - random', 'labels - random'] : []),
    ...(advice ? ['predictions stable at'] : []),
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  const note = paired
    ? ['', 'vs random, paired by repeat: mean difference [95% seeded bootstrap interval] p = exact Wilcoxon signed-rank / exact sign-flip permutation (two-sided); labels over the repeats where both reached the target.']
    : [];
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt), ...note].join('\n');
}

/** The strategy's mean ALC, with ± the std over its repeats when the runs are at hand and there are 2 or more. */
function alcText(alc: number, s: StrategySummary, results: ExperimentResults): string {
  const alcs = (results.runs ?? []).filter((r) => r.strategy === s.strategy && r.rounds.length > 0).map((r) => areaUnderLearningCurve(r.rounds));
  return alcs.length >= 2 ? `${alc.toFixed(4)} ± ${std(alcs).toFixed(4)}` : alc.toFixed(4);
}

/** "180 ± 22 (5/5)": the mean and std of the labels to the target over the repeats that reached it, and how many did. */
function labelsText(s: StrategySummary): string {
  const t = s.labelsToTarget;
  if (t.mean === null) return `not reached (0/${s.repeats})`;
  const reached = t.perRepeat.filter((v): v is number => v !== null);
  return `${Math.round(t.mean)}${reached.length >= 2 ? ` ± ${Math.round(std(reached))}` : ''} (${t.reached}/${s.repeats})`;
}

export async function renderChartSvg(results: ExperimentResults): Promise<string> {
  const c = results.config;
  const spec = learningCurveSpec(learningCurves(results.runs), {
    title: `${c.dataset} / ${c.model}: ${c.initial} initial + ${c.query} per round, ${c.repeats} repeat${c.repeats > 1 ? 's' : ''} (mean ± std)`,
    target: c.target,
    stops: stopMarkers(results.runs),
  });
  // Loaded here, not at the top: vega and vega-lite take about 2 s of a CLI process's start-up,
  // and most processes (workers, --help, usage errors) never draw a chart.
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

