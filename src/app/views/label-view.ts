/**
 * "Label it yourself": the batch the model asks about, large, each row with the model's top-3
 * guesses and the answer given; the class keys; the labels given, the agreement and the seconds
 * per label; and the curve of your labels beside the simulated oracle's. Keyboard: digits label
 * the current row, Space skips it, Backspace takes back the batch's last answer, Enter submits a
 * batch answered throughout (labeling.ts); every key is also a button.
 */
import { h, replace, s } from '../dom.ts';
import { stopRound, STOPPING } from '../../engine/stopping.ts';
import { labelStats, SKIP, type DrawnExample, type LabelAnswer, type LabelBatch } from '../labeling.ts';
import type { DatasetInfo } from '../protocol.ts';
import type { RunData } from '../state.ts';
import { boundaryCanvas, CLASS_COLORS } from './boundary.ts';

/** A point of a labeling curve: test accuracy after training on `labeled` labels. */
export interface CurvePoint {
  labeled: number;
  accuracy: number;
}

/** Draws one image row ([H, W, C] uint8) on a canvas, shown `css` pixels wide (pixelated). */
export function imageCanvas(pixels: Uint8Array, offset: number, shape: readonly number[], css: number): HTMLCanvasElement {
  const [H = 1, W = 1, C = 1] = shape;
  const canvas = h('canvas', { class: 'label-image', attrs: { width: W, height: H }, style: { width: `${css}px`, height: `${Math.round((css * H) / W)}px` } });
  const ctx = canvas.getContext('2d');
  if (!ctx) return canvas;
  const img = ctx.createImageData(W, H);
  for (let i = 0; i < H * W; i++) {
    const base = offset + i * C;
    const r = pixels[base]!, g = C >= 3 ? pixels[base + 1]! : r, b = C >= 3 ? pixels[base + 2]! : r;
    // MNIST-like digits are white on black; shown dark on light.
    const inv = C === 1;
    img.data[i * 4] = inv ? 255 - r : r;
    img.data[i * 4 + 1] = inv ? 255 - g : g;
    img.data[i * 4 + 2] = inv ? 255 - b : b;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

function pct(x: number): string {
  return `${Math.round(x * 100)}%`;
}

export interface LabelViewHandlers {
  /** A class button or key: label the current row (`SKIP` skips). */
  label(label: number): void;
  undo(): void;
  submit(): void;
}

export class LabelView {
  constructor(
    private readonly els: { batch: HTMLElement; keys: HTMLElement; stats: HTMLElement; curve: HTMLElement; note: HTMLElement },
    private readonly handlers: LabelViewHandlers,
  ) {}

  /** The batch, or the state between batches (`note`). */
  render(batch: LabelBatch | null, ds: DatasetInfo | null, note: string, run: RunData | null): void {
    this.els.note.textContent = note;
    if (!batch || !ds) {
      replace(this.els.batch);
      this.els.batch.hidden = true;
      replace(this.els.keys);
      return;
    }
    this.els.batch.hidden = false;
    const q = batch.query;
    const current = batch.current;
    const names = ds.classNames;
    const tiles: HTMLElement[] = [];
    const size = batch.size <= 4 ? 140 : batch.size <= 8 ? 112 : 84;
    const d = ds.shape.reduce((a, b) => a * b, 1);
    for (let p = 0; p < batch.size; p++) {
      const a = batch.at(p);
      const guesses = Array.from({ length: q.top.k }, (_, j) => ({ c: q.top.classes[p * q.top.k + j]!, p: q.top.probs[p * q.top.k + j]! }));
      const answer = a === null ? 'not labeled yet' : a.label === SKIP ? 'skipped' : `labeled ${names[a.label] ?? a.label}`;
      const picture = q.pixels ? imageCanvas(q.pixels, p * d, ds.shape, size)
        : h('span', { class: 'label-point', style: { background: '#fff' }, text: String(p + 1) });
      const where = q.points ? ` at (${q.points[2 * p]!.toFixed(2)}, ${q.points[2 * p + 1]!.toFixed(2)})` : '';
      tiles.push(h('figure', {
        class: `label-tile${p === current ? ' current' : ''}${a === null ? '' : a.label === SKIP ? ' skipped' : ' answered'}`,
        data: { position: p, row: q.indices[p]!, answer: a === null ? '' : a.label },
        attrs: { role: 'listitem', 'aria-current': p === current ? 'true' : null, 'aria-label': `Item ${p + 1} of ${batch.size}, dataset row ${q.indices[p]}${where}: ${answer}. ${guesses.length ? `The model guesses ${guesses.map((g) => `${names[g.c] ?? g.c} ${pct(g.p)}`).join(', ')}.` : 'No model yet: it trains on this first batch.'}` },
      },
      picture,
      h('figcaption', {},
        h('span', { class: 'label-answer', text: a === null ? (p === current ? 'now' : '–') : a.label === SKIP ? 'skipped' : `${names[a.label] ?? a.label}` }),
        h('ol', { class: 'label-guesses', attrs: { 'aria-hidden': 'true' } }, ...guesses.map((g) => h('li', {}, h('span', { class: 'guess-class', text: names[g.c] ?? String(g.c) }), ` ${pct(g.p)}`))))));
    }
    const items: HTMLElement[] = [h('div', { class: 'label-tiles', attrs: { role: 'list' } }, ...tiles)];
    if (q.points && run) {
      const map = pointsMap(run, ds, q.points, batch, 300);
      if (map) items.unshift(map);
    }
    replace(this.els.batch, ...items);
    this.els.batch.setAttribute('aria-label', `Round ${q.round}: ${batch.size} items to label${current === null ? ', all answered: press Enter to submit' : `, item ${current + 1} is next`}. Keys: 0 to ${Math.min(10, ds.numClasses) - 1} label, Space skips, Backspace undoes, Enter submits.`);

    const classes = Math.min(10, ds.numClasses);
    const buttons = Array.from({ length: classes }, (_, c) => h('button', {
      class: 'class-key', attrs: { type: 'button', 'aria-keyshortcuts': String(c), 'aria-label': `Label ${names[c] ?? c} (key ${c})`, disabled: current === null },
      on: { click: () => this.handlers.label(c) },
    }, h('kbd', { text: String(c) }), h('span', { text: names[c] ?? String(c) })));
    replace(this.els.keys,
      ...buttons,
      h('button', { id: 'label-skip', attrs: { type: 'button', 'aria-keyshortcuts': 'Space', disabled: current === null }, on: { click: () => this.handlers.label(SKIP) } }, h('kbd', { text: 'Space' }), ' skip'),
      h('button', { id: 'label-undo', attrs: { type: 'button', 'aria-keyshortcuts': 'Backspace' }, on: { click: () => this.handlers.undo() } }, h('kbd', { text: '⌫' }), ' undo'),
      h('button', { id: 'label-submit', class: 'primary', attrs: { type: 'button', 'aria-keyshortcuts': 'Enter', disabled: current !== null }, on: { click: () => this.handlers.submit() } }, h('kbd', { text: 'Enter' }), ' submit'));
  }

  /** Labels given, drawn digits added, agreement with the dataset's labels, seconds per label. */
  renderStats(answers: readonly LabelAnswer[], drawn = 0): void {
    const st = labelStats(answers);
    this.els.stats.dataset.given = String(st.given);
    this.els.stats.dataset.skipped = String(st.skipped);
    this.els.stats.dataset.drawn = String(drawn);
    replace(this.els.stats,
      h('span', { text: `${st.given} label${st.given === 1 ? '' : 's'} given` }),
      h('span', { text: `${st.skipped} skipped` }),
      ...(drawn ? [h('span', { text: `${drawn} drawn digit${drawn === 1 ? '' : 's'} added` })] : []),
      h('span', { text: st.agreement === null ? 'agreement: –' : `agreement with the dataset: ${pct(st.agreement)}` }),
      h('span', { text: st.secondsPerLabel === null ? 'seconds per label: –' : `${st.secondsPerLabel.toFixed(1)} s per label` }));
  }

  /**
   * Data without labels: no test accuracy, so in place of the curve the labels given so far per
   * class (drawn digits included), the stopping advice from the stop set (stabilizing predictions
   * needs no labels), and a plain note that accuracy needs labeled test data.
   */
  renderUnlabeled(ds: DatasetInfo, answers: readonly LabelAnswer[], drawn: readonly DrawnExample[], run: RunData | null): void {
    const counts = new Array<number>(ds.numClasses).fill(0);
    for (const a of answers) if (a.label !== SKIP && a.label < counts.length) counts[a.label]!++;
    for (const d of drawn) if (d.label < counts.length) counts[d.label]!++;
    const records = run ? run.rounds.map((r) => r.record) : [];
    const last = records.at(-1);
    const st = last?.stopping;
    const stable = stopRound('stabilizing', records);
    const calm = stopRound('overall-uncertainty', records);
    const advice = !st
      ? 'Advice on when to stop appears after the first round (it needs a stop set: the form\'s "Stop set" above 0).'
      : [
          stable !== null ? `Predictions stable since round ${stable}: you could stop here.`
            : `Predictions not stable yet: Cohen's kappa between the last two models on the stop set ${st.kappa === null ? '– (after round 1)' : st.kappa.toFixed(3)}; stable when the mean of the last ${STOPPING.window} reaches ${STOPPING.kappa}.`,
          calm !== null ? `Overall uncertainty under ${STOPPING.overallUncertainty} since round ${calm}.` : `Overall uncertainty on the stop set ${st.overallUncertainty.toFixed(3)} (under ${STOPPING.overallUncertainty} advises stopping).`,
        ].join(' ');
    this.els.curve.dataset.unlabeled = 'true';
    replace(this.els.curve,
      h('p', { class: 'help unlabeled-note', text: 'No accuracy here: accuracy needs labeled test data, and these images have no labels but yours. Shown: the labels you gave per class, and the advice on when to stop, which needs no labels.' }),
      h('ul', { class: 'label-class-counts', attrs: { 'aria-label': 'Labels given per class' } },
        ...ds.classNames.map((name, c) => h('li', { data: { cls: name, count: counts[c]! }, text: `${name} (key ${c}): ${counts[c]}` }))),
      h('p', { class: 'label-advice', attrs: { 'aria-live': 'polite' }, data: { stable: stable === null ? '' : String(stable) }, text: advice }));
  }

  /** Test accuracy against labels: yours, and the simulated oracle's for the same strategy and seed. */
  renderCurve(yours: readonly CurvePoint[], simulated: readonly CurvePoint[]): void {
    delete this.els.curve.dataset.unlabeled;
    const all = [...yours, ...simulated];
    if (all.length === 0) {
      replace(this.els.curve, h('p', { class: 'empty', text: 'Your curve grows a point per round, beside the simulated oracle\'s.' }));
      return;
    }
    const W = 420, H = 200, L = 40, R = 12, T = 10, B = 30;
    const x0 = Math.min(...all.map((p) => p.labeled)), x1 = Math.max(...all.map((p) => p.labeled), x0 + 1);
    const sx = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
    const sy = (y: number) => T + (1 - y) * (H - T - B);
    const line = (pts: readonly CurvePoint[], cls: string) => {
      const sorted = [...pts].sort((a, b) => a.labeled - b.labeled);
      return s('g', { class: cls },
        s('polyline', { points: sorted.map((p) => `${sx(p.labeled).toFixed(1)},${sy(p.accuracy).toFixed(1)}`).join(' '), fill: 'none' }),
        ...sorted.map((p) => s('circle', { cx: sx(p.labeled).toFixed(1), cy: sy(p.accuracy).toFixed(1), r: 3 })));
    };
    const ticks = [0, 0.25, 0.5, 0.75, 1];
    const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': `Test accuracy against labels: yours ${yours.map((p) => `${pct(p.accuracy)} at ${p.labeled}`).join(', ') || 'none yet'}; the simulated oracle's ${simulated.map((p) => `${pct(p.accuracy)} at ${p.labeled}`).join(', ') || 'none yet'}.` },
      ...ticks.map((t) => s('g', { class: 'tick' }, s('line', { x1: L, x2: W - R, y1: sy(t), y2: sy(t) }), s('text', { x: L - 4, y: sy(t) + 4, 'text-anchor': 'end' }, pct(t)))),
      s('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle' }, `labels (${x0} to ${x1})`),
      line(simulated, 'curve-simulated'),
      line(yours, 'curve-yours'));
    replace(this.els.curve, svg,
      h('p', { class: 'legend' },
        h('span', { class: 'legend-item' }, h('span', { class: 'swatch yours' }), 'your labels'),
        h('span', { class: 'legend-item' }, h('span', { class: 'swatch simulated' }), 'simulated oracle (the dataset\'s labels)')));
  }
}

/** For 2-D data: the latest decision-boundary map with the batch's points ringed and numbered. */
function pointsMap(run: RunData, ds: DatasetInfo, points: Float32Array, batch: LabelBatch, size: number): HTMLElement | null {
  const last = run.rounds.at(-1);
  if (!last || !ds.grid) return null;
  const canvas = boundaryCanvas(run, last.record.round, ds, size);
  const ctx = canvas?.getContext('2d');
  if (!canvas || !ctx) return null;
  const g = ds.grid;
  const px = canvas.width;
  const scale = px / size;
  const sx = (x: number) => ((x - g.x0) / (g.x1 - g.x0)) * px;
  const sy = (y: number) => ((g.y1 - y) / (g.y1 - g.y0)) * px;
  ctx.font = `${11 * scale}px sans-serif`;
  for (let p = 0; p < batch.size; p++) {
    const x = sx(points[2 * p]!), y = sy(points[2 * p + 1]!);
    const a = batch.at(p);
    ctx.beginPath();
    ctx.arc(x, y, 8 * scale, 0, Math.PI * 2);
    ctx.lineWidth = (p === batch.current ? 3 : 1.5) * scale;
    ctx.strokeStyle = p === batch.current ? '#111111' : '#555555';
    ctx.stroke();
    if (a && a.label !== SKIP) {
      ctx.fillStyle = CLASS_COLORS[a.label % CLASS_COLORS.length]!;
      ctx.fill();
    }
    ctx.fillStyle = '#111111';
    ctx.fillText(String(p + 1), x + 10 * scale, y - 8 * scale);
  }
  canvas.setAttribute('aria-label', `The model's decision regions after round ${last.record.round}, with this batch's ${batch.size} points ringed and numbered`);
  return h('figure', { class: 'label-map' }, canvas, h('figcaption', { text: 'The queried points, ringed and numbered; the current one in bold.' }));
}
