/**
 * The page's bounded restarts of a crashed compute worker (src/app/restart-policy.ts): growing
 * delays, a stop after the last one, and a fresh budget when the user goes on. No browser: the
 * timers are Vitest's fake ones. (The page under crashes: tests/e2e/recovery.test.ts.)
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkDelays, describeCrash, RESTART_DELAYS_MS, RestartPolicy } from '../../src/app/restart-policy.ts';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RestartPolicy', () => {
  it('restarts after 1 s, 5 s and 25 s, then stops: a worker that crashes on every start is started 4 times in all', () => {
    expect(RESTART_DELAYS_MS).toEqual([1_000, 5_000, 25_000]);
    const starts: number[] = [];
    // The "worker" crashes as soon as it is restarted.
    const policy: RestartPolicy = new RestartPolicy(() => {
      starts.push(Date.now());
      decisions.push(policy.crashed());
    });
    const t0 = Date.now();
    const decisions = [policy.crashed()];
    vi.advanceTimersByTime(10 * 60_000);
    expect(starts.map((t) => t - t0)).toEqual([1_000, 6_000, 31_000]);
    expect(decisions).toEqual([
      { restart: true, attempt: 1, limit: 3, delayMs: 1_000 },
      { restart: true, attempt: 2, limit: 3, delayMs: 5_000 },
      { restart: true, attempt: 3, limit: 3, delayMs: 25_000 },
      { restart: false, crashes: 4, limit: 3 },
    ]);
    expect(policy.pending).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    // Further crashes (a worker the user started) never schedule anything either.
    expect(policy.crashed()).toEqual({ restart: false, crashes: 5, limit: 3 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('restarts nothing before its delay is up', () => {
    const restart = vi.fn();
    const policy = new RestartPolicy(restart);
    policy.crashed();
    expect(policy.pending).toBe(true);
    vi.advanceTimersByTime(999);
    expect(restart).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(restart).toHaveBeenCalledTimes(1);
    expect(policy.pending).toBe(false);
  });

  it('forgets the crashes when the user goes on: the next crash waits the first delay again', () => {
    const restart = vi.fn();
    const policy = new RestartPolicy(restart);
    for (let i = 0; i < 4; i++) {
      policy.crashed();
      vi.runOnlyPendingTimers();
    }
    expect(policy.crashesInARow).toBe(4);
    expect(restart).toHaveBeenCalledTimes(3);
    policy.forget();
    expect(policy.crashesInARow).toBe(0);
    expect(policy.crashed()).toEqual({ restart: true, attempt: 1, limit: 3, delayMs: 1_000 });
  });

  it('keeps one restart scheduled when a second crash comes before it is due', () => {
    const restart = vi.fn();
    const policy = new RestartPolicy(restart);
    policy.crashed();
    vi.advanceTimersByTime(500);
    expect(policy.crashed()).toMatchObject({ restart: true, attempt: 2, delayMs: 5_000 });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(5_000);
    expect(restart).toHaveBeenCalledTimes(1);
  });

  it('takes other delays (tests use short ones), and cancels a scheduled restart', () => {
    const restart = vi.fn();
    const policy = new RestartPolicy(restart, [10, 20]);
    expect(policy.limit).toBe(2);
    policy.setDelays([50]);
    expect(policy.crashed()).toEqual({ restart: true, attempt: 1, limit: 1, delayMs: 50 });
    policy.cancel();
    vi.advanceTimersByTime(1_000);
    expect(restart).not.toHaveBeenCalled();
    expect(policy.crashed()).toEqual({ restart: false, crashes: 2, limit: 1 });
    // No delays at all: never restarts.
    expect(new RestartPolicy(restart, []).crashed()).toEqual({ restart: false, crashes: 1, limit: 0 });
  });

  it('refuses delays that are not finite non-negative milliseconds, naming the entry', () => {
    expect(() => checkDelays([1, -1])).toThrow('restart delay [1] = -1 is not allowed: a finite number of milliseconds, 0 or more');
    expect(() => checkDelays([Number.NaN])).toThrow('restart delay [0] = NaN is not allowed');
    expect(() => checkDelays([1, Infinity])).toThrow('restart delay [1] = Infinity');
    expect(() => checkDelays(['5' as unknown as number])).toThrow('restart delay [0] = 5 is not allowed');
    expect(() => checkDelays(5 as unknown as number[])).toThrow('restart delays must be an array of milliseconds, got 5');
    expect(() => new RestartPolicy(() => undefined).setDelays([-5])).toThrow('restart delay [0] = -5');
  });
});

describe('describeCrash', () => {
  it('says what failed, what is kept, and when the next worker starts', () => {
    expect(describeCrash('Uncaught Error: boom', { restart: true, attempt: 1, limit: 3, delayMs: 1_000 }, 3)).toEqual({
      error: 'The compute worker crashed: Uncaught Error: boom. The 3 completed rounds are kept.',
      note: 'A new compute worker starts in 1 s (restart 1 of 3).',
    });
    expect(describeCrash('x', { restart: true, attempt: 2, limit: 3, delayMs: 200 }, 1)).toEqual({
      error: 'The compute worker crashed: x. The completed round is kept.',
      note: 'A new compute worker starts in 200 ms (restart 2 of 3).',
    });
    expect(describeCrash('Uncaught Error: boom', { restart: false, crashes: 4, limit: 3 }, 0)).toEqual({
      error: 'The compute worker crashed 4 times in a row and is not restarted again; the last error: Uncaught Error: boom. Press Continue to start a new one.',
      note: null,
    });
  });
});
