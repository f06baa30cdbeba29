/**
 * Decision-boundary maps for 2-D datasets: each strategy's model at the chosen round, coloured by
 * predicted class (shade = confidence), with the pool, the labeled points and that round's
 * queries (rings), one panel per strategy side by side.
 */
import { strategyColor } from '../colors.ts';
import { h, replace } from '../dom.ts';
import type { DatasetInfo, StrategyMeta } from '../protocol.ts';
import type { RunData } from '../state.ts';
import { accuracyText } from '../../engine/results.ts';

export const CLASS_COLORS = ['#4c78a8', '#f58518', '#54a24b', '#e45756', '#72b7b2', '#b279a2', '#eeca3b', '#9d755d', '#ff9da6', '#bab0ac'];

function rgb(hex: string): [number, number, number] {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

export function boundaryCanvas(run: RunData, round: number, ds: DatasetInfo, cssSize: number): HTMLCanvasElement | null {
  const grid = ds.grid, pts = ds.points;
  const data = run.rounds.find((x) => x.record.round === round);
  if (!grid || !pts || !data?.grid) return null;
  const dpr = Math.min(2, globalThis.devicePixelRatio || 1);
  const px = Math.round(cssSize * dpr);
  const canvas = h('canvas', { class: 'boundary', attrs: { width: px, height: px }, style: { width: `${cssSize}px`, height: `${cssSize}px` } });
  const ctx = canvas.getContext('2d');
  if (!ctx) return canvas;
  // The grid as a G x G image, scaled up smoothly.
  const G = grid.size;
  const tile = document.createElement('canvas');
  tile.width = G;
  tile.height = G;
  const tctx = tile.getContext('2d')!;
  const img = tctx.createImageData(G, G);
  const C = ds.numClasses;
  for (let i = 0; i < G * G; i++) {
    const [r, g, b] = rgb(CLASS_COLORS[data.grid.predicted[i]! % CLASS_COLORS.length]!);
    const conf = data.grid.confidence[i]!;
    const a = Math.max(0, Math.min(1, (conf - 1 / C) / (1 - 1 / C)));
    const w = 0.2 + 0.6 * a; // blend toward white: pale where the model is unsure
    img.data[i * 4] = Math.round(255 + (r - 255) * w);
    img.data[i * 4 + 1] = Math.round(255 + (g - 255) * w);
    img.data[i * 4 + 2] = Math.round(255 + (b - 255) * w);
    img.data[i * 4 + 3] = 255;
  }
  tctx.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(tile, 0, 0, px, px);
  const sx = (x: number) => ((x - grid.x0) / (grid.x1 - grid.x0)) * px;
  const sy = (y: number) => ((grid.y1 - y) / (grid.y1 - grid.y0)) * px;
  // Labeled set up to this round, and this round's queries.
  const labeledAt = new Map<number, number>();
  for (const r of run.rounds) {
    if (r.record.round > round) break;
    for (const i of r.record.selected) labeledAt.set(i, r.record.round);
  }
  const n = pts.y.length;
  ctx.fillStyle = 'rgba(40, 44, 52, 0.28)';
  for (let i = 0; i < n; i++) {
    if (labeledAt.has(i)) continue;
    ctx.beginPath();
    ctx.arc(sx(pts.x[2 * i]!), sy(pts.x[2 * i + 1]!), 1.3 * dpr, 0, Math.PI * 2);
    ctx.fill();
  }
  for (const [i, r] of labeledAt) {
    const x = sx(pts.x[2 * i]!), y = sy(pts.x[2 * i + 1]!);
    ctx.beginPath();
    ctx.arc(x, y, 3.2 * dpr, 0, Math.PI * 2);
    ctx.fillStyle = CLASS_COLORS[pts.y[i]! % CLASS_COLORS.length]!;
    ctx.fill();
    ctx.lineWidth = 1 * dpr;
    ctx.strokeStyle = '#ffffff';
    ctx.stroke();
    if (r === round && round > 0) {
      ctx.beginPath();
      ctx.arc(x, y, 7 * dpr, 0, Math.PI * 2);
      ctx.lineWidth = 2 * dpr;
      ctx.strokeStyle = '#111111';
      ctx.stroke();
    }
  }
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `Decision regions of ${run.strategy} at round ${round}: ${labeledAt.size} labeled points, ${round > 0 ? data.record.selected.length : 0} queried this round (ringed); accuracy ${accuracyText(data.record.accuracy)}`);
  return canvas;
}

export function renderBoundaries(container: HTMLElement, runs: RunData[], ds: DatasetInfo, strategies: StrategyMeta[], sel: { repeat: number; round: number }): void {
  const items: HTMLElement[] = [];
  const size = Math.max(200, Math.min(300, Math.floor((container.clientWidth || 900) / Math.max(1, Math.min(4, runs.length)) - 28)));
  for (const run of runs.filter((r) => r.repeat === sel.repeat)) {
    const canvas = boundaryCanvas(run, sel.round, ds, size);
    if (!canvas) continue;
    const data = run.rounds.find((x) => x.record.round === sel.round)!;
    const label = strategies.find((x) => x.name === run.strategy)?.label ?? run.strategy;
    items.push(h('figure', { class: 'boundary-fig', data: { strategy: run.strategy } }, canvas,
      h('figcaption', {},
        h('span', { class: 'swatch', style: { background: strategyColor(run.strategy) }, attrs: { 'aria-hidden': 'true' } }),
        `${label} · ${data.record.labeled} labels · ${accuracyText(data.record.accuracy)}`)));
  }
  if (items.length === 0) {
    replace(container, h('p', { class: 'empty', text: 'Decision-boundary maps appear here for 2-D datasets (moons, blobs) after the first round.' }));
    return;
  }
  const legend = h('p', { class: 'legend' },
    ...ds.classNames.map((n, c) => h('span', { class: 'legend-item' }, h('span', { class: 'dot', style: { background: CLASS_COLORS[c % CLASS_COLORS.length]! } }), n)),
    h('span', { class: 'legend-item' }, h('span', { class: 'dot pool' }), 'unlabeled pool'),
    h('span', { class: 'legend-item' }, h('span', { class: 'ring' }), 'queried this round'),
    h('span', { class: 'legend-item', text: 'shade = confidence' }));
  replace(container, legend, h('div', { class: 'boundary-grid' }, ...items));
}
