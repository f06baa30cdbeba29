/**
 * How the page restarts a compute worker that crashed: a bounded number of times, each after a
 * longer delay, and then not at all until the user says to go on. A worker that crashes on every
 * start (a broken backend, a bad build, a full memory) therefore costs a few restarts, never a
 * loop. Plain logic and one timer; no DOM, no tfjs.
 */

/** The delays before the first, second and third restart; a fourth crash in a row stops. */
export const RESTART_DELAYS_MS: readonly number[] = [1_000, 5_000, 25_000];

export type CrashDecision =
  /** Restart number `attempt` of `limit` starts after `delayMs`. */
  | { restart: true; attempt: number; limit: number; delayMs: number }
  /** `crashes` crashes in a row: no more automatic restarts. */
  | { restart: false; crashes: number; limit: number };

/** Checks a list of delays: finite, non-negative milliseconds. Throws an error that names the bad entry. */
export function checkDelays(delaysMs: readonly number[]): readonly number[] {
  if (!Array.isArray(delaysMs)) throw new TypeError(`restart delays must be an array of milliseconds, got ${String(delaysMs)}`);
  delaysMs.forEach((d, i) => {
    if (typeof d !== 'number' || !Number.isFinite(d) || d < 0) {
      throw new RangeError(`restart delay [${i}] = ${String(d)} is not allowed: a finite number of milliseconds, 0 or more`);
    }
  });
  return [...delaysMs];
}

export class RestartPolicy {
  private crashes = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delays: readonly number[];

  /** `restart` is called when a scheduled restart is due. */
  constructor(private readonly restart: () => void, delaysMs: readonly number[] = RESTART_DELAYS_MS) {
    this.delays = checkDelays(delaysMs);
  }

  /** Replaces the delays (tests use short ones); the crashes counted so far still count. */
  setDelays(delaysMs: readonly number[]): void {
    this.delays = checkDelays(delaysMs);
  }

  get limit(): number {
    return this.delays.length;
  }

  /** Crashes in a row since the last `forget()`. */
  get crashesInARow(): number {
    return this.crashes;
  }

  /** Whether a restart is scheduled and not yet due. */
  get pending(): boolean {
    return this.timer !== null;
  }

  /** A worker crashed: schedules its restart after the next delay, or says the restarts are spent. */
  crashed(): CrashDecision {
    this.crashes++;
    if (this.timer !== null) {
      // A crash while a restart is pending (a worker started by other means died): one restart is enough.
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.crashes > this.delays.length) return { restart: false, crashes: this.crashes, limit: this.delays.length };
    const delayMs = this.delays[this.crashes - 1]!;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.restart();
    }, delayMs);
    return { restart: true, attempt: this.crashes, limit: this.delays.length, delayMs };
  }

  /**
   * The user asked to go on (Run, Continue): earlier crashes no longer count. A scheduled restart
   * stays scheduled (starting a worker twice is harmless: the client keeps one).
   */
  forget(): void {
    this.crashes = 0;
  }

  /** Cancels a scheduled restart. */
  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * What the page says about a crash: the error (what failed, and what is kept) and, while a
 * restart is scheduled, when it comes.
 */
export function describeCrash(message: string, next: CrashDecision, completedRounds: number): { error: string; note: string | null } {
  const kept = completedRounds === 0 ? '' : completedRounds === 1 ? ' The completed round is kept.' : ` The ${completedRounds} completed rounds are kept.`;
  if (!next.restart) {
    return {
      error: `The compute worker crashed ${next.crashes} times in a row and is not restarted again; the last error: ${message}.${kept} Press Continue to start a new one.`,
      note: null,
    };
  }
  const delay = next.delayMs < 1000 ? `${Math.round(next.delayMs)} ms` : `${Math.round(next.delayMs / 1000)} s`;
  return {
    error: `The compute worker crashed: ${message}.${kept}`,
    note: `A new compute worker starts in ${delay} (restart ${next.attempt} of ${next.limit}).`,
  };
}
