/**
 * The loop's channel to its caller: events out, pauses and stops in. Every step of the loop
 * reports through one `Reporter`.
 */
import type { ExperimentEvent, Phase, Where } from './events.ts';

export interface ReporterOptions {
  signal?: AbortSignal | undefined;
  onEvent?: ((event: ExperimentEvent) => void | Promise<void>) | undefined;
  waitIfPaused?: (() => Promise<void>) | undefined;
}

export class Reporter {
  readonly signal: AbortSignal | undefined;
  constructor(private readonly options: ReporterOptions) {
    this.signal = options.signal;
  }

  /** Hands an event to the caller; awaited if the caller returns a promise. */
  async emit(event: ExperimentEvent): Promise<void> {
    if (this.options.onEvent) await this.options.onEvent(event);
  }

  /** Waits while paused (a UI resolves it to go on). */
  async pausePoint(): Promise<void> {
    if (this.options.waitIfPaused) await this.options.waitIfPaused();
  }

  /** A step boundary: waits while paused, stops if aborted, then announces the phase. */
  async phase(phase: Phase, where: Where): Promise<void> {
    await this.pausePoint();
    this.signal?.throwIfAborted();
    await this.emit({ type: 'phase', phase, ...where });
  }
}
