/** A one-line progress bar with phase and ETA for a terminal; one line per round when not a TTY. */
import type { ExperimentEvent } from '../engine/events.ts';

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

export class ProgressBar {
  private done = 0;
  private total = 1;
  private startedAt = performance.now();
  private status = 'starting';
  private lastDraw = 0;

  constructor(private readonly stream: TextOut, private readonly tty = !!stream.isTTY) {}

  onEvent(e: ExperimentEvent): void {
    switch (e.type) {
      case 'start':
        this.total = e.progress.total;
        this.startedAt = performance.now();
        this.status = `${e.dataset.name}: pool ${e.dataset.poolSize}, test ${e.dataset.testSize}`;
        this.draw(true);
        break;
      case 'phase':
        this.status = `${e.strategy} #${e.repeat} round ${e.round}: ${e.phase}`;
        this.draw(false);
        break;
      case 'epoch':
        this.status = `${e.strategy} #${e.repeat} round ${e.round}: train epoch ${e.epoch + 1}/${e.epochs} loss ${e.loss.toFixed(3)}`;
        this.draw(false);
        break;
      case 'round':
        this.done = e.progress.done;
        this.status = `${e.strategy} #${e.repeat} round ${e.record.round}: ${e.record.labeled} labels, accuracy ${(e.record.accuracy * 100).toFixed(2)}%`;
        if (!this.tty) this.stream.write(`${this.line()}\n`);
        this.draw(true);
        break;
      case 'warning':
        this.clear();
        this.stream.write(`warning: ${e.strategy} #${e.repeat} round ${e.round}: ${e.message}\n`);
        break;
      case 'resume':
        this.clear();
        this.stream.write(`resume: ${e.strategy} #${e.repeat}: ${e.message}\n`);
        break;
      case 'end':
        this.clear();
        break;
      default:
        break;
    }
  }

  private line(): string {
    const elapsed = performance.now() - this.startedAt;
    const frac = this.total > 0 ? this.done / this.total : 0;
    const eta = this.done > 0 ? (elapsed / this.done) * (this.total - this.done) : Number.NaN;
    const width = 24;
    const filled = Math.round(frac * width);
    const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
    return `${bar} ${String(Math.round(frac * 100)).padStart(3)}% ${this.done}/${this.total} rounds  ${formatDuration(elapsed)} elapsed, ETA ${formatDuration(eta)}  ${this.status}`;
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
