/**
 * Live learning curves: the shared Vega-Lite spec (src/charts/learning-curve.ts) rendered in the
 * page with a Vega View (SVG renderer). Each update builds the new view off-screen, then swaps it
 * in, so the chart never flashes empty.
 *
 * Under the page's Content-Security-Policy (no eval, src/security/csp.ts) Vega may not compile its
 * expressions into functions with `new Function`: every spec is parsed with `{ast: true}` and the
 * View evaluates the ASTs with vega-interpreter. That covers drawing, the SVG export (`toSVG`) and
 * the PNG export (`toImageURL`), which re-render the same view.
 */
import type { View } from 'vega';
import { learningCurveSpec } from '../../charts/learning-curve.ts';
import type { ExperimentConfig } from '../../engine/config.ts';
import { learningCurves, stopMarkers, type RunRecord } from '../../engine/results.ts';
import { h, replace } from '../dom.ts';
import { cspSafeView, loadChartLibs } from './vega-csp.ts';

async function warmUp(): Promise<void> {
  const libs = await loadChartLibs();
  const spec = learningCurveSpec([{ strategy: 'random', labeled: 1, mean: 0.5, std: 0, n: 1 }, { strategy: 'entropy', labeled: 2, mean: 0.6, std: 0.1, n: 2 }], { target: 0.8 });
  const view = cspSafeView(libs, libs[1].compile(spec).spec, document.createElement('div'));
  await view.runAsync();
  view.finalize();
}

/** The Vega dataset Vega-Lite compiles the spec's inline curve values into. */
const CURVE_DATA = 'source_0';

export class CurvesView {
  private view: View | null = null;
  private pending: Promise<void> = Promise.resolve();
  private lastKey = '';
  private shapeKey = '';

  constructor(private readonly container: HTMLElement) {
    this.empty();
    // Fetch the chart libraries and warm them up (the first compile is several times slower than
    // the next ones) while the page is idle, not in the middle of a run.
    setTimeout(() => void warmUp().catch(() => undefined), 500);
  }

  empty(message = 'Run an experiment to draw its learning curves: test accuracy against the number of labels, one line per strategy.'): void {
    this.view?.finalize();
    this.view = null;
    this.lastKey = '';
    this.shapeKey = '';
    replace(this.container, h('p', { class: 'empty', text: message }));
  }

  /** Redraws from these runs (serialised: a draw never overlaps the previous one). */
  update(runs: RunRecord[], config: ExperimentConfig, force = false): Promise<void> {
    this.pending = this.pending.then(() => this.draw(runs, config, force)).catch((err: unknown) => {
      console.warn('learning-curve chart:', err);
    });
    return this.pending;
  }

  private async draw(runs: RunRecord[], config: ExperimentConfig, force: boolean): Promise<void> {
    // A task of its own, apart from the rest of the page's redraw.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const points = learningCurves(runs);
    if (points.length === 0) return;
    const width = Math.max(240, Math.min(900, this.container.clientWidth - 170));
    const key = JSON.stringify([points, width, stopMarkers(runs)]);
    if (!force && key === this.lastKey) return;
    this.lastKey = key;
    const repeats = config.repeats;
    const spec = learningCurveSpec(points, {
      title: `${config.dataset} · ${config.model}: ${config.initial} initial + ${config.query} per round${repeats > 1 ? ` · line: mean over ${repeats} repeats; band: ± 1 std (not a confidence interval)` : ''}`,
      width,
      height: Math.round(Math.min(360, Math.max(220, width * 0.5))),
      target: config.target,
      stops: stopMarkers(runs),
    });
    const libs = await loadChartLibs();
    const [vega] = libs;
    const values = (spec as { data?: { values?: unknown[] } }).data?.values ?? [];
    // Same strategies, size and title: only the data changed, so update the live view in place
    // (no Vega-Lite compile, no new DOM); otherwise compile a new view off-screen and swap it in.
    const shape = JSON.stringify([[...new Set(points.map((p) => p.strategy))], width, spec.title ?? '', config.target, stopMarkers(runs)]);
    if (this.view && !force && shape === this.shapeKey) {
      this.view.change(CURVE_DATA, vega.changeset().remove(() => true).insert(values));
      await this.view.runAsync();
      return;
    }
    // Solid legend symbols (the band layer's opacity would otherwise fade them).
    const styled = { ...spec, config: { legend: { symbolOpacity: 1, labelFontSize: 12, titleFontSize: 12 }, axis: { labelFontSize: 11, titleFontSize: 12 }, title: { fontSize: 14, fontWeight: 600 } } } as typeof spec;
    const target = h('div', { class: 'chart-canvas' });
    const view = cspSafeView(libs, libs[1].compile(styled).spec, target, { hover: true });
    await view.runAsync();
    this.view?.finalize();
    this.view = view;
    this.shapeKey = shape;
    replace(this.container, target);
  }

  async toSVG(): Promise<string | null> {
    await this.pending;
    return this.view ? this.view.toSVG() : null;
  }

  async toPNG(): Promise<string | null> {
    await this.pending;
    return this.view ? this.view.toImageURL('png', 2) : null;
  }
}
