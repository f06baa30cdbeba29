/**
 * "What each strategy asked for": one column per strategy for the chosen round, with the queried
 * examples (images drawn from their pixels, true label and score), a histogram of the scores of
 * every candidate that round, and the class distribution of the labeled set.
 */
import { strategyColor } from '../colors.ts';
import { h, replace, s } from '../dom.ts';
import { NO_LABEL, type DatasetInfo, type StrategyMeta } from '../protocol.ts';
import type { RoundData, RunData } from '../state.ts';

/** Draws one image of a [k, H, W, C] uint8 block as dark ink on white (C = 1; `ink` false: as stored, luminance) or RGB (C = 3). */
export function imageCanvas(pixels: Uint8Array, index: number, shape: number[], cssSize: number, ink = true): HTMLCanvasElement {
  const [hgt = 28, wid = 28, ch = 1] = shape;
  const canvas = h('canvas', { class: 'digit', attrs: { width: wid, height: hgt }, style: { width: `${cssSize}px`, height: `${cssSize}px` } });
  const ctx = canvas.getContext('2d');
  if (!ctx) return canvas;
  const img = ctx.createImageData(wid, hgt);
  const base = index * hgt * wid * ch;
  for (let p = 0; p < hgt * wid; p++) {
    const o = p * 4;
    if (ch >= 3) {
      img.data[o] = pixels[base + p * ch]!;
      img.data[o + 1] = pixels[base + p * ch + 1]!;
      img.data[o + 2] = pixels[base + p * ch + 2]!;
    } else {
      const v = ink ? 255 - pixels[base + p * ch]! : pixels[base + p * ch]!;
      img.data[o] = v;
      img.data[o + 1] = v;
      img.data[o + 2] = v;
    }
    img.data[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return canvas;
}

export function formatScore(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e4)) return x.toExponential(1);
  return x.toFixed(a < 0.1 ? 4 : 3);
}

/** The queried examples of one round. */
function gallery(data: RoundData, ds: DatasetInfo, size: number): HTMLElement {
  const { labels, pixels } = data.queried;
  const scores = data.record.selectedScores;
  const items: HTMLElement[] = [];
  for (let k = 0; k < labels.length; k++) {
    const cls = labels[k]!;
    // Data without labels shows the person's label (NO_LABEL: skipped, or not at hand).
    const name = cls === NO_LABEL && ds.unlabeled ? 'no label' : ds.classNames[cls] ?? String(cls);
    const score = scores?.[k];
    const caption = h('figcaption', {},
      h('span', { class: 'true-label', text: name }),
      score === undefined ? null : h('span', { class: 'score', text: formatScore(score) }));
    const what = `${ds.unlabeled ? 'your label' : 'true label'} ${name}${score === undefined ? '' : `, score ${formatScore(score)}`}`;
    items.push(h('figure', { class: 'query', attrs: { role: 'listitem', 'aria-label': what }, title: what },
      pixels ? imageCanvas(pixels, k, ds.shape, size) : h('span', { class: 'point-chip', text: name }), caption));
  }
  return h('div', { class: 'gallery', attrs: { role: 'list' } }, ...items);
}

/** Histogram of the candidates' scores; bins above the lowest queried score in the strategy's colour. */
export function scoreHistogram(scores: Float32Array, selectedScores: number[] | null, color: string, bins = 24): SVGSVGElement {
  const W = 260, H = 96, padL = 4, padB = 18, padT = 12;
  let lo = Infinity, hi = -Infinity, finite = 0;
  for (const v of scores) {
    if (!Number.isFinite(v)) continue;
    finite++;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const svg = s('svg', { class: 'histogram', viewBox: `0 0 ${W} ${H}`, role: 'img' });
  if (finite === 0) return svg;
  if (hi === lo) hi = lo + 1e-6;
  const counts = new Array<number>(bins).fill(0);
  for (const v of scores) {
    if (!Number.isFinite(v)) continue;
    counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]!++;
  }
  const threshold = selectedScores && selectedScores.length ? Math.min(...selectedScores) : null;
  const max = Math.max(...counts);
  const bw = (W - padL * 2) / bins;
  counts.forEach((c, i) => {
    const bh = max ? ((H - padB - padT) * c) / max : 0;
    const binLo = lo + ((hi - lo) * i) / bins;
    const binHi = lo + ((hi - lo) * (i + 1)) / bins;
    const asked = threshold !== null && binHi > threshold;
    const rect = s('rect', { x: padL + i * bw + 0.5, y: H - padB - bh, width: Math.max(0.5, bw - 1), height: bh, fill: asked ? color : '#c7ccd4' });
    rect.appendChild(s('title', {}, `${formatScore(binLo)} to ${formatScore(binHi)}: ${c}`));
    svg.appendChild(rect);
  });
  if (threshold !== null) {
    const x = padL + ((threshold - lo) / (hi - lo)) * (W - padL * 2);
    svg.appendChild(s('line', { x1: x, x2: x, y1: padT - 8, y2: H - padB, stroke: '#1b1f24', 'stroke-dasharray': '3 2', 'stroke-width': 1 }));
  }
  svg.appendChild(s('line', { x1: padL, x2: W - padL, y1: H - padB + 0.5, y2: H - padB + 0.5, stroke: '#8a929c' }));
  svg.appendChild(s('text', { x: padL, y: H - 4, class: 'axis' }, formatScore(lo)));
  svg.appendChild(s('text', { x: W - padL, y: H - 4, class: 'axis', 'text-anchor': 'end' }, formatScore(hi)));
  svg.appendChild(s('text', { x: padL, y: padT - 2, class: 'axis' }, `max ${max}`));
  svg.setAttribute('aria-label', `Histogram of ${finite} candidate scores from ${formatScore(lo)} to ${formatScore(hi)}${threshold !== null ? `; queried at or above ${formatScore(threshold)}` : ''}`);
  return svg;
}

/** Bars of the labeled set's class counts. */
export function classBars(counts: number[], classNames: string[], color: string): SVGSVGElement {
  const W = 260, H = 92, padB = 16, padT = 12;
  const n = counts.length;
  const max = Math.max(1, ...counts);
  const bw = W / n;
  const svg = s('svg', { class: 'class-bars', viewBox: `0 0 ${W} ${H}`, role: 'img' });
  counts.forEach((c, i) => {
    const bh = ((H - padB - padT) * c) / max;
    const name = classNames[i] ?? String(i);
    const rect = s('rect', { x: i * bw + 1, y: H - padB - bh, width: Math.max(1, bw - 2), height: bh, fill: color, 'fill-opacity': 0.85 });
    rect.appendChild(s('title', {}, `${name}: ${c}`));
    svg.appendChild(rect);
    if (n <= 12) {
      svg.appendChild(s('text', { x: i * bw + bw / 2, y: H - 4, class: 'axis', 'text-anchor': 'middle' }, name.length <= 3 ? name : String(i)));
      svg.appendChild(s('text', { x: i * bw + bw / 2, y: H - padB - bh - 2, class: 'axis count', 'text-anchor': 'middle' }, String(c)));
    }
  });
  svg.setAttribute('aria-label', `Labeled examples per class: ${counts.map((c, i) => `${classNames[i] ?? i} ${c}`).join(', ')}`);
  return svg;
}

export interface AskedSelection {
  repeat: number;
  round: number;
}

export function renderAsked(container: HTMLElement, runs: RunData[], ds: DatasetInfo, strategies: StrategyMeta[], sel: AskedSelection): void {
  const mine = runs.filter((r) => r.repeat === sel.repeat);
  if (mine.length === 0 || mine.every((r) => r.rounds.length === 0)) {
    replace(container, h('p', { class: 'empty', text: 'The queried examples of each strategy appear here after its first query round.' }));
    return;
  }
  const cols: HTMLElement[] = [];
  const initial = mine.find((r) => r.rounds[0])?.rounds[0];
  for (const run of mine) {
    const meta = strategies.find((x) => x.name === run.strategy);
    const color = strategyColor(run.strategy);
    const data = run.rounds.find((x) => x.record.round === sel.round) ?? null;
    const last = run.rounds[run.rounds.length - 1];
    const shown = data ?? (sel.round > 0 ? null : last ?? null);
    const body: (HTMLElement | SVGElement)[] = [];
    if (!shown) {
      body.push(h('p', { class: 'empty small', text: `Round ${sel.round} not reached yet (last: ${last ? last.record.round : '—'}).` }));
    } else {
      const rec = shown.record;
      body.push(h('p', { class: 'round-line' },
        h('strong', { text: rec.round === 0 ? 'Initial set' : `Round ${rec.round}` }),
        ` · ${rec.labeled} labels · accuracy `, h('strong', { text: rec.accuracy === null ? '– (no labeled test data)' : `${(rec.accuracy * 100).toFixed(1)}%` })));
      if (rec.round > 0) {
        body.push(h('h4', { text: `Asked for (${rec.selected.length})` }), gallery(shown, ds, ds.kind === 'image' ? 44 : 0));
        if (shown.scores) {
          body.push(h('h4', { text: `Scores of the ${shown.scores.length} candidates` }), scoreHistogram(shown.scores, rec.selectedScores, color));
        } else if (rec.selectedScores) {
          body.push(h('p', { class: 'help', text: 'The scores of the other candidates are not kept in a results file: the queried ones show theirs.' }));
        } else {
          body.push(h('p', { class: 'help', text: 'This strategy selects a set and reports no scores.' }));
        }
      } else {
        body.push(h('p', { class: 'help', text: 'Round 0 trains on the initial set, shared by every strategy; pick a later round to see the queries.' }));
      }
      body.push(h('h4', { text: 'Labeled set by class' }), classBars(rec.classCounts, ds.classNames, color));
    }
    cols.push(h('article', { class: 'strategy-col', data: { strategy: run.strategy }, style: { '--accent': color } },
      h('header', {},
        h('h3', {}, h('span', { class: 'swatch', style: { background: color }, attrs: { 'aria-hidden': 'true' } }), meta?.label ?? run.strategy),
        meta ? h('code', { class: 'formula', text: meta.formula }) : null),
      ...body));
  }
  const parts: HTMLElement[] = [];
  if (sel.round === 0 && initial && ds.kind === 'image') {
    parts.push(h('div', { class: 'initial-strip' }, h('h4', { text: `Initial labeled set (${initial.record.selected.length}, shared by all strategies)` }), gallery(initial, ds, 36)));
  }
  parts.push(h('div', { class: 'strategy-cols' }, ...cols));
  replace(container, ...parts);
}
