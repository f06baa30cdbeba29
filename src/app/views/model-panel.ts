/**
 * The Model panel, drawn with tfjs-vis's renderers (plain data in, no tensors):
 *  - the run's model, layer by layer (`render.table`; the rows come from the compute host,
 *    src/app/host/model-summary.ts);
 *  - the training loss and accuracy of the round being trained, one point per epoch
 *    (`render.linechart`, which compiles a new chart on every call: so it draws the two charts
 *    once, and later epochs and rounds replace their data in place, as tfjs-vis's barchart does;
 *    at most once per TRAINING_REDRAW_MS, never per batch; the last epoch that arrived is always
 *    drawn);
 *  - each strategy's test accuracy per class at the chosen round, from the round's confusion
 *    counts (`render.barchart`, updated in place through the view it keeps, and only when the
 *    bars it shows changed).
 *
 * A small run on wasm sends several epochs and rounds a second. Compiling both line charts for each
 * epoch and redrawing the bars for each redraw of the page took 2 to 3 s of the page's main thread
 * in a 30-round run (Chromium's profiler, here), which then answered clicks late.
 *
 * Only tfjs-vis's deep renderer modules are imported, and lazily: the package root loads
 * tfjs-core, which the page never loads (.dependency-cruiser.mjs). Their charts call vega-embed,
 * which vite.config.ts resolves to vega-embed-csp.ts, so they draw under the page's CSP.
 * `render.table` writes every cell with `.html()`: every string goes through `escapeHtml`.
 */
import { strategyColor } from '../colors.ts';
import { h, replace } from '../dom.ts';
import type { DatasetInfo, ModelSummary, StrategyMeta } from '../protocol.ts';
import type { RunData } from '../state.ts';
import { release, viewOf } from './vega-embed-csp.ts';
import { accuracyText } from '../../engine/results.ts';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text as HTML that displays it literally (for `render.table`, which sets cells with `.html()`). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

export const SUMMARY_HEADERS = ['Layer', 'Type', 'Output shape', 'Parameters', 'Trainable'];

/** `render.table`'s data for a model summary, every string escaped (numbers are formatted by tfjs-vis). */
export function summaryTable(summary: ModelSummary): { headers: string[]; values: (string | number)[][] } {
  return {
    headers: SUMMARY_HEADERS.map(escapeHtml),
    values: summary.layers.map((l) => [escapeHtml(l.name), escapeHtml(l.type), escapeHtml(l.outputShape), l.params, l.trainable ? 'yes' : 'no']),
  };
}

/**
 * Test accuracy of each class (recall: right / test rows of that class) from row-major C x C
 * confusion counts [true][predicted]; a class with no test rows has no bar.
 *
 * @example
 *   perClassAccuracy([3, 1, 0, 2], ['a', 'b']); // [{index: 'a', value: 0.75}, {index: 'b', value: 1}]
 */
export function perClassAccuracy(confusion: readonly number[], classNames: readonly string[]): { index: string; value: number }[] {
  const c = classNames.length;
  if (confusion.length !== c * c) throw new RangeError(`confusion counts: expected ${c} x ${c} = ${c * c} for ${c} classes, got ${confusion.length}`);
  const bars: { index: string; value: number }[] = [];
  for (let i = 0; i < c; i++) {
    let total = 0;
    for (let j = 0; j < c; j++) total += confusion[i * c + j]!;
    if (total > 0) bars.push({ index: classNames[i]!, value: confusion[i * c + i]! / total });
  }
  return bars;
}

export interface EpochPoint {
  strategy: string;
  repeat: number;
  round: number;
  epoch: number;
  epochs: number;
  loss: number;
  acc: number;
}

type Renderers = [
  typeof import('@tensorflow/tfjs-vis/dist/render/table'),
  typeof import('@tensorflow/tfjs-vis/dist/render/linechart'),
  typeof import('@tensorflow/tfjs-vis/dist/render/barchart'),
];
let renderers: Promise<Renderers> | null = null;
const loadRenderers = () => (renderers ??= Promise.all([
  import('@tensorflow/tfjs-vis/dist/render/table'),
  import('@tensorflow/tfjs-vis/dist/render/linechart'),
  import('@tensorflow/tfjs-vis/dist/render/barchart'),
]));

/** The least time between two redraws of the training charts. */
export const TRAINING_REDRAW_MS = 500;

/**
 * `render.linechart`'s rows for one series, as it builds them (the x of the i-th point is i) into
 * the Vega dataset its spec compiles to (`TRAINING_DATA`): what an in-place update replaces.
 */
export function linechartRows(series: string, ys: readonly number[]): Record<string, number | string>[] {
  return ys.map((y, x) => ({ x, [series]: y, [`${series}-name`]: series }));
}
const TRAINING_DATA = 'source_0';

function trainingCaption(p: EpochPoint): string {
  return `${p.strategy}, repeat ${p.repeat + 1}, round ${p.round}: epoch ${p.epoch + 1} of ${p.epochs}, training loss ${p.loss.toFixed(3)}, accuracy ${(p.acc * 100).toFixed(1)}%`;
}

export class ModelPanel {
  private summary: ModelSummary | null = null;
  private points: EpochPoint[] = [];
  private bars = new Map<string, HTMLElement>();
  private dirty = { summary: false, training: false, classes: false };
  private classInput: { runs: RunData[]; ds: DatasetInfo; strategies: StrategyMeta[]; sel: { repeat: number; round: number } } | null = null;
  private drawing: Promise<void> | null = null;
  /** When the training charts were last drawn (performance.now()), and the timer of the next draw. */
  private trainingDrawnAt = -Infinity;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** What the per-class bars show now (the rounds' data as objects: their counts never change): redrawn only when it changes. */
  private classesShown: { key: string; rounds: (object | null)[] } = { key: '', rounds: [] };
  private readonly summaryEl = h('div', { class: 'model-summary', id: 'model-summary' });
  private readonly trainingEl = h('div', { class: 'model-training', id: 'model-training' });
  private readonly classesEl = h('div', { class: 'model-classes', id: 'model-classes' });

  /** `body` is the panel's collapsible body: nothing is drawn while it is hidden. */
  constructor(container: HTMLElement, private readonly body: HTMLElement) {
    replace(container,
      h('h3', { text: 'Layers' }), this.summaryEl,
      h('h3', { text: 'Training, epoch by epoch' }), this.trainingEl,
      h('h3', { text: 'Test accuracy per class' }), this.classesEl);
    this.reset();
  }

  /** A new run (or results without a model): clears everything. */
  reset(): void {
    for (const el of [this.trainingEl, this.classesEl]) for (const chart of el.querySelectorAll<HTMLElement>('.vis-chart')) release(chart);
    this.summary = null;
    this.points = [];
    this.bars.clear();
    this.classInput = null;
    this.classesShown = { key: '', rounds: [] };
    this.trainingDrawnAt = -Infinity;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.dirty = { summary: false, training: false, classes: false };
    replace(this.summaryEl, h('p', { class: 'empty', text: 'The layers of the model a run trains appear here when it starts.' }));
    replace(this.trainingEl, h('p', { class: 'empty', text: 'The training loss and accuracy of the round being trained appear here, one point per epoch.' }));
    replace(this.classesEl, h('p', { class: 'empty', text: "Each strategy's test accuracy per class at the chosen round appears here after its first evaluation." }));
  }

  setSummary(summary: ModelSummary): void {
    this.summary = summary;
    this.dirty.summary = true;
    this.schedule();
  }

  /** One epoch event: a new round (or run) starts a new series. */
  epoch(p: EpochPoint): void {
    const last = this.points.at(-1);
    if (!last || last.strategy !== p.strategy || last.repeat !== p.repeat || last.round !== p.round || p.epoch <= last.epoch) this.points = [];
    this.points.push(p);
    this.dirty.training = true;
    this.schedule();
  }

  /**
   * The per-class bars of the chosen round (the charts update in place). Called on every redraw of
   * the page, so also when the panel is opened: what arrived while it was closed is drawn then.
   */
  update(runs: RunData[], ds: DatasetInfo | null, strategies: StrategyMeta[], sel: { repeat: number; round: number }): void {
    this.classInput = ds ? { runs, ds, strategies, sel: { ...sel } } : null;
    if (this.classInput) this.dirty.classes = true;
    this.schedule();
  }

  /**
   * One draw at a time; what changes meanwhile is drawn by the next. The training charts wait
   * until TRAINING_REDRAW_MS after their last draw (a timer draws them then).
   */
  private schedule(): void {
    if (this.drawing || this.body.hidden) return;
    const { summary, training, classes } = this.dirty;
    if (!summary && !training && !classes) return;
    const wait = training ? this.trainingDrawnAt + TRAINING_REDRAW_MS - performance.now() : 0;
    if (wait > 0 && !summary && !classes) {
      this.timer ??= setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, wait);
      return;
    }
    this.drawing = this.draw(wait <= 0)
      .catch((err: unknown) => console.warn('model panel:', err))
      .finally(() => {
        this.drawing = null;
        if (this.dirty.summary || this.dirty.training || this.dirty.classes) this.schedule();
      });
  }

  /** Draws what changed; the training charts only when `training` (else they stay marked). */
  private async draw(training: boolean): Promise<void> {
    const [{ table }, { linechart }, { barchart }] = await loadRenderers();
    // Each flag is cleared before its part is drawn: what arrives meanwhile sets it again.
    const dirty = this.dirty;
    this.dirty = { summary: false, training: dirty.training && !training, classes: false };
    if (dirty.summary && this.summary) {
      const s = this.summary;
      const area = h('div', { class: 'vis-table' });
      table(area, summaryTable(s), { fontSize: 13 });
      replace(this.summaryEl,
        h('p', { class: 'model-total', text: `${s.model}: ${s.totalParams.toLocaleString('en')} parameters (${s.trainableParams.toLocaleString('en')} trainable), ${s.layers.length} layers` }),
        area);
    }
    if (dirty.training && training && this.points.length > 0) {
      this.trainingDrawnAt = performance.now();
      const pts = this.points.slice();
      const p = pts.at(-1)!;
      const width = Math.max(220, Math.min(420, Math.floor(this.trainingEl.clientWidth / 2) - 40));
      if (await this.updateTraining(pts, width)) return this.drawRest(dirty, barchart);
      const loss = h('div', { class: 'vis-chart', id: 'model-loss' });
      const acc = h('div', { class: 'vis-chart', id: 'model-acc' });
      const opts = { xLabel: 'epoch', width, height: 150, fontSize: 11 };
      const figure = h('figure', { class: 'model-epochs', data: { strategy: p.strategy, repeat: p.repeat, round: p.round, epochs: pts.length, width } },
        h('figcaption', { text: trainingCaption(p) }),
        h('div', { class: 'vis-pair' }, loss, acc));
      // Drawn off-screen, then swapped in (the chart never flashes empty).
      await Promise.all([
        linechart(loss, { values: [pts.map((q) => ({ x: q.epoch + 1, y: q.loss }))], series: ['training loss'] }, { ...opts, yLabel: 'loss', seriesColors: ['#d62728'] }),
        linechart(acc, { values: [pts.map((q) => ({ x: q.epoch + 1, y: q.acc }))], series: ['training accuracy'] }, { ...opts, yLabel: 'accuracy', yAxisDomain: [0, 1], seriesColors: ['#1f77b4'] }),
      ]);
      const old = this.trainingEl.querySelectorAll<HTMLElement>('.vis-chart');
      replace(this.trainingEl, figure);
      for (const el of old) release(el);
    }
    await this.drawRest(dirty, barchart);
  }

  private async drawRest(dirty: ModelPanel['dirty'], barchart: Renderers[2]['barchart']): Promise<void> {
    if (dirty.classes && this.classInput) await this.drawClasses(this.classInput, barchart);
  }

  /**
   * The training charts drawn before at this width: their data replaced in place, the caption
   * rewritten. False when there is nothing to update (the caller draws them anew).
   */
  private async updateTraining(pts: EpochPoint[], width: number): Promise<boolean> {
    const figure = this.trainingEl.querySelector<HTMLElement>('figure.model-epochs');
    const views = [this.trainingEl.querySelector<HTMLElement>('#model-loss'), this.trainingEl.querySelector<HTMLElement>('#model-acc')].map((el) => (el ? viewOf(el) : null));
    if (!figure || figure.dataset.width !== String(width) || views.some((v) => !v?.data(TRAINING_DATA))) return false;
    const p = pts.at(-1)!;
    const series: [string, number[]][] = [['training loss', pts.map((q) => q.loss)], ['training accuracy', pts.map((q) => q.acc)]];
    await Promise.all(views.map((view, i) => {
      const [name, ys] = series[i]!;
      return view!.change(TRAINING_DATA, view!.changeset().remove(() => true).insert(linechartRows(name, ys))).runAsync();
    }));
    Object.assign(figure.dataset, { strategy: p.strategy, repeat: String(p.repeat), round: String(p.round), epochs: String(pts.length) });
    figure.querySelector('figcaption')!.textContent = trainingCaption(p);
    return true;
  }

  private async drawClasses(input: NonNullable<ModelPanel['classInput']>, barchart: Renderers[2]['barchart']): Promise<void> {
    const { runs, ds, strategies, sel } = input;
    const shown: HTMLElement[] = [];
    const width = Math.max(200, Math.min(380, Math.floor(this.classesEl.clientWidth / 2) - 40));
    const inRepeat = runs.filter((r) => r.repeat === sel.repeat);
    const rounds = inRepeat.map((run) => run.rounds.find((x) => x.record.round === sel.round) ?? null);
    const key = JSON.stringify([width, sel, ds.classNames, inRepeat.map((run) => [run.strategy, strategies.find((s) => s.name === run.strategy)?.label])]);
    const last = this.classesShown;
    if (key === last.key && rounds.length === last.rounds.length && rounds.every((r, i) => r === last.rounds[i])) return;
    this.classesShown = { key, rounds };
    for (const [i, run] of inRepeat.entries()) {
      const data = rounds[i];
      if (!data || data.confusion.length === 0) continue; // a results file keeps no confusion counts
      const bars = perClassAccuracy(data.confusion, ds.classNames);
      let fig = this.bars.get(run.strategy);
      if (!fig) {
        fig = h('figure', { class: 'model-class-fig', data: { strategy: run.strategy } }, h('figcaption'), h('div', { class: 'vis-chart' }));
        this.bars.set(run.strategy, fig);
      }
      const label = strategies.find((s) => s.name === run.strategy)?.label ?? run.strategy;
      fig.querySelector('figcaption')!.textContent = `${label} · round ${data.record.round} · ${accuracyText(data.record.accuracy)} overall`;
      // The class names are the bars' (ordinal) index: Vega draws them as SVG text, never as HTML.
      await barchart(fig.querySelector<HTMLElement>('.vis-chart')!, bars as unknown as { index: number; value: number }[],
        { xLabel: 'class', yLabel: 'test accuracy', width, height: 150, fontSize: 11, color: strategyColor(run.strategy) });
      // Set once drawn: the round and the number of classes the bars show.
      fig.dataset.round = String(data.record.round);
      fig.dataset.classes = String(bars.length);
      shown.push(fig);
    }
    if (shown.length === 0) {
      const fromFile = runs.some((r) => r.rounds.length > 0) && runs.every((r) => r.rounds.every((x) => x.confusion.length === 0));
      replace(this.classesEl, h('p', { class: 'empty', text: fromFile
        ? 'A results file keeps no confusion counts: run the experiment again to see the accuracy per class.'
        : "Each strategy's test accuracy per class at the chosen round appears here after its first evaluation." }));
      return;
    }
    const grid = this.classesEl.querySelector('.model-class-grid') ?? h('div', { class: 'model-class-grid' });
    if (grid.parentElement !== this.classesEl) replace(this.classesEl, grid);
    if (shown.some((f, i) => grid.children[i] !== f) || grid.children.length !== shown.length) grid.replaceChildren(...shown);
  }
}
