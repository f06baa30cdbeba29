/**
 * One progress bar over every cell of a sweep, with what each worker is doing and an ETA: a line
 * redrawn in place on a terminal, one line per completed round when stderr is not a terminal.
 */
import { accuracyText, type RoundRecord } from '../engine/results.ts';
import type { CellEvent } from './sweep.ts';
import { cellName, type Cell } from './shard.ts';

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

/** Where the bar draws: process.stderr, or anything with a write (tests). */
export interface TextOut {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export class SweepProgress {
  private done = 0;
  private kept = 0;
  private total = 1;
  private startedAt = performance.now();
  /** What each worker is doing, by worker number. */
  private readonly doing = new Map<number, string>();
  private lastDraw = 0;

  constructor(private readonly stream: TextOut, private readonly tty = !!stream.isTTY) {}

  /** `total` rounds in the sweep, `kept` of them already done (a resumed run). */
  start(total: number, kept: number): void {
    this.total = Math.max(total, 1);
    this.done = this.kept = kept;
    this.startedAt = performance.now();
    this.draw(true);
  }

  event(worker: number, e: CellEvent): void {
    const at = `${e.strategy} #${e.repeat} round ${e.round}`;
    switch (e.type) {
      case 'phase':
        this.doing.set(worker, `${at}: ${e.phase}`);
        this.draw(false);
        break;
      case 'epoch':
        this.doing.set(worker, `${at}: train epoch ${e.epoch + 1}/${e.epochs} loss ${e.loss.toFixed(3)}`);
        this.draw(false);
        break;
      case 'warning':
        this.log(`warning: ${at}: ${e.message}`);
        break;
      case 'resume':
        this.log(`resume: ${e.strategy} #${e.repeat}: ${e.message}`);
        break;
    }
  }

  round(worker: number, cell: Cell, record: RoundRecord): void {
    this.done++;
    this.doing.set(worker, `${cellName(cell)} round ${record.round}: ${record.labeled} labels, accuracy ${accuracyText(record.accuracy, 2)}`);
    if (!this.tty) this.stream.write(`${this.line(worker)}\n`);
    this.draw(true);
  }

  /** A worker is idle (its cell ended). */
  idle(worker: number): void {
    this.doing.delete(worker);
  }

  /** Prints a line above the bar. */
  log(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
    this.draw(true);
  }

  end(): void {
    this.clear();
  }

  private line(only?: number): string {
    const elapsed = performance.now() - this.startedAt;
    const frac = this.done / this.total;
    const fresh = this.done - this.kept;
    const eta = fresh > 0 ? (elapsed / fresh) * (this.total - this.done) : Number.NaN;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    const doing = only !== undefined
      ? `worker ${only}: ${this.doing.get(only) ?? ''}`
      : [...this.doing].map(([w, s]) => (this.doing.size > 1 ? `[${w}] ${s}` : s)).join('  ');
    return `${bar} ${String(Math.round(frac * 100)).padStart(3)}% ${this.done}/${this.total} rounds  ${formatDuration(elapsed)} elapsed, ETA ${formatDuration(eta)}  ${doing}`;
  }

  private draw(force: boolean): void {
    if (!this.tty) return;
    const now = performance.now();
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const cols = this.stream.columns ?? 120;
    this.stream.write(`\r\x1b[K${this.line().slice(0, cols - 1)}`);
  }

  private clear(): void {
    if (this.tty) this.stream.write('\r\x1b[K');
  }
}
