/**
 * "Try the model": a drawing pad for 28x28 digit data (mouse, touch and pen through pointer
 * events). A finished stroke is preprocessed as MNIST was made (digit.ts) and sent to the host;
 * the current model's class probabilities come back as bars. The page only draws: the model runs
 * in the worker, and only C numbers come back.
 */
import { inkFromRgba, preprocessDigit, FIELD } from '../digit.ts';
import { h, replace } from '../dom.ts';
import { imageCanvas } from './label-view.ts';

const SIDE = 280;

export class DrawingPad {
  readonly canvas: HTMLCanvasElement;
  private readonly ctx: CanvasRenderingContext2D | null;
  private drawing: number | null = null;
  private lastPoint: { x: number; y: number } | null = null;
  /** The preprocessed digit of the current drawing (null: the pad is blank). */
  pixels: Uint8Array | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  /**
   * @param predict asked for the probabilities of `pixels` (28x28 bytes) after each stroke
   */
  constructor(
    private readonly els: { wrap: HTMLElement; preview: HTMLElement; bars: HTMLElement; clear: HTMLButtonElement },
    private readonly predict: (pixels: Uint8Array) => void,
  ) {
    this.canvas = h('canvas', {
      id: 'pad-canvas', class: 'pad-canvas',
      attrs: { width: SIDE, height: SIDE, role: 'img', 'aria-label': 'Drawing pad: draw a digit with the mouse, a finger or a pen; the model\'s class probabilities appear beside it' },
    });
    this.ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    replace(els.wrap, this.canvas);
    this.canvas.addEventListener('pointerdown', (e) => this.down(e));
    this.canvas.addEventListener('pointermove', (e) => this.move(e));
    this.canvas.addEventListener('pointerup', (e) => this.up(e));
    this.canvas.addEventListener('pointercancel', (e) => this.up(e));
    els.clear.addEventListener('click', () => this.clear());
    this.showBars(null, 'Draw a digit to see what the model makes of it.');
  }

  private point(e: PointerEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    return { x: ((e.clientX - r.left) / r.width) * SIDE, y: ((e.clientY - r.top) / r.height) * SIDE };
  }

  private down(e: PointerEvent): void {
    if (this.drawing !== null) return;
    e.preventDefault();
    this.drawing = e.pointerId;
    this.canvas.setPointerCapture?.(e.pointerId);
    this.lastPoint = this.point(e);
    this.stroke(this.lastPoint, this.lastPoint, e.pressure);
  }

  private move(e: PointerEvent): void {
    if (this.drawing !== e.pointerId || !this.lastPoint) return;
    const p = this.point(e);
    this.stroke(this.lastPoint, p, e.pressure);
    this.lastPoint = p;
  }

  private up(e: PointerEvent): void {
    if (this.drawing !== e.pointerId) return;
    this.drawing = null;
    this.lastPoint = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.update(), 60);
  }

  private stroke(a: { x: number; y: number }, b: { x: number; y: number }, pressure: number): void {
    const ctx = this.ctx;
    if (!ctx) return;
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';
    ctx.strokeStyle = '#000000';
    // A pen's pressure thickens the line a little; a mouse reports 0.5 while pressed.
    ctx.lineWidth = 18 * (0.75 + 0.5 * (pressure > 0 ? pressure : 0.5));
    ctx.beginPath();
    ctx.moveTo(a.x, a.y);
    ctx.lineTo(b.x + 0.01, b.y);
    ctx.stroke();
  }

  /** Preprocesses the drawing and asks for its probabilities. */
  update(): void {
    if (!this.ctx) return;
    const data = this.ctx.getImageData(0, 0, SIDE, SIDE).data;
    this.pixels = preprocessDigit(inkFromRgba(data, SIDE, SIDE), SIDE, SIDE);
    replace(this.els.preview, ...(this.pixels ? [imageCanvas(this.pixels, 0, [FIELD, FIELD, 1], 56)] : []));
    if (this.pixels) {
      this.showBars(null, 'Asking the model…');
      this.predict(this.pixels);
    } else this.showBars(null, 'Draw a digit to see what the model makes of it.');
  }

  clear(): void {
    this.ctx?.clearRect(0, 0, SIDE, SIDE);
    this.pixels = null;
    replace(this.els.preview);
    this.showBars(null, 'Draw a digit to see what the model makes of it.');
  }

  /** The model's probabilities as bars (or a note when there are none). */
  showBars(probs: readonly number[] | null, note: string, classNames: readonly string[] = []): void {
    if (!probs) {
      this.els.bars.dataset.state = 'empty';
      replace(this.els.bars, h('p', { class: 'help', text: note }));
      return;
    }
    const best = probs.indexOf(Math.max(...probs));
    this.els.bars.dataset.state = 'probs';
    this.els.bars.dataset.best = String(best);
    replace(this.els.bars,
      h('ol', { class: 'prob-bars', attrs: { 'aria-label': `The model's probabilities: most likely ${classNames[best] ?? best}` } },
        ...probs.map((p, c) => h('li', { class: c === best ? 'best' : '', attrs: { 'aria-label': `${classNames[c] ?? c}: ${(p * 100).toFixed(1)}%` } },
          h('span', { class: 'prob-class', text: classNames[c] ?? String(c) }),
          h('span', { class: 'prob-bar' }, h('span', { class: 'prob-fill', style: { width: `${(p * 100).toFixed(1)}%` } })),
          h('span', { class: 'prob-value', text: `${(p * 100).toFixed(1)}%` })))));
  }
}
