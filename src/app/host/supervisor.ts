/**
 * The GPU-loss supervisor: runs an experiment in attempts. An attempt runs until the end, a stop,
 * a failure, or the loss of the GPU backend's WebGL context or WebGPU device; after a loss the
 * completed rounds are kept, a fresh backend is found (a new context or device of the same kind,
 * or wasm after too many losses or when none starts), and the next attempt resumes from the last
 * completed round of each run.
 *
 * It touches no tfjs itself: the experiment, the context watch and the backend switches are
 * handed in (`SupervisorParts`), so it is tested in Node with fakes.
 */
import type { GpuBackendName } from '../../backend/catalog.ts';
import type { ExperimentConfig } from '../../engine/config.ts';
import type { ExperimentEvent } from '../../engine/events.ts';
import type { RunOptions } from '../../engine/loop.ts';
import type { ExperimentResults, RunRecord } from '../../engine/results.ts';

/** GPU losses within one run after which it stops asking for the GPU backend and continues on wasm. */
export const MAX_GPU_RESTARTS = 2;
/** How long a run interrupted by a GPU loss gets to wind down before the next attempt starts anyway. */
export const WIND_DOWN_MS = 20_000;

/** What the supervisor needs from the compute host. */
export interface SupervisorParts {
  /** One attempt of the experiment (`runExperiment` on the loaded dataset). */
  run(config: ExperimentConfig, options: RunOptions): Promise<unknown>;
  /** The active GPU backend's WebGL context or WebGPU device, watched. */
  context: {
    /** The active backend if it is a GPU one (what a loss would take away), else null. */
    active(): GpuBackendName | null;
    /** Calls `onLost` once when the context or device is lost (also if it already is); returns the function that stops watching. */
    watch(onLost: () => void): () => void;
    /** Whether it is lost now (false off the GPU): asked synchronously before an event is kept. */
    lost(): boolean;
  };
  /** Replaces the lost GPU backend with a fresh one of the same kind and makes it active; throws if it cannot start. */
  freshGpu(backend: GpuBackendName): Promise<void>;
  /** Makes wasm the active backend and reports it. */
  switchToWasm(): Promise<void>;
  /** Reports the active backend after a fresh context or device started. */
  reportBackend(): void;
  /** Tells the user what happened (a warning). */
  notice(message: string): void;
  /** @default MAX_GPU_RESTARTS */
  maxGpuRestarts?: number;
  /** @default WIND_DOWN_MS */
  windDownMs?: number;
}

export interface SuperviseOptions {
  /** Stops the run: no further attempt starts. */
  signal: AbortSignal;
  /** Events of the current attempt; an attempt winding down after a loss reports nothing. */
  onEvent(e: ExperimentEvent): void;
  /**
   * Awaited between phases, as `RunOptions.waitIfPaused`; `interrupted()` turns true once this
   * attempt's context or device is lost (a paused attempt should then stop waiting).
   */
  waitIfPaused?(interrupted: () => boolean): Promise<void>;
  grid?: Float32Array;
  resume: Pick<ExperimentResults, 'config' | 'runs'> | null;
  /** `RunOptions.onFinalModel` of the current attempt; an attempt winding down after a loss hands over nothing. */
  onFinalModel?: RunOptions['onFinalModel'];
}

const runKey = (strategy: string, repeat: number) => `${strategy}#${repeat}`;

/** How the notice names what was lost. */
const LOST: Record<GpuBackendName, { what: string; fresh: string; label: string }> = {
  webgl: { what: "the GPU's WebGL context", fresh: 'a fresh WebGL context', label: 'WebGL' },
  webgpu: { what: "the GPU's WebGPU device", fresh: 'a fresh WebGPU device', label: 'WebGPU' },
};

/**
 * Runs `config` through as many attempts as GPU losses make necessary. Resolves when an
 * attempt ends (complete, stopped, or a stop during a wind-down); rejects with an attempt's
 * failure that was not caused by a context loss.
 */
export async function supervise(config: ExperimentConfig, parts: SupervisorParts, options: SuperviseOptions): Promise<void> {
  const { signal } = options;
  const maxRestarts = parts.maxGpuRestarts ?? MAX_GPU_RESTARTS;
  const windDownMs = parts.windDownMs ?? WIND_DOWN_MS;
  // The completed runs and rounds so far (the kept ones too): what a GPU loss must not lose.
  const done = new Map<string, RunRecord>();
  for (const r of options.resume?.runs ?? []) done.set(runKey(r.strategy, r.repeat), { ...r, rounds: [...r.rounds] });
  const track = (e: ExperimentEvent) => {
    if (e.type === 'round') {
      const k = runKey(e.strategy, e.repeat);
      const r = done.get(k) ?? { strategy: e.strategy, repeat: e.repeat, status: 'aborted' as const, rounds: [] };
      r.rounds.push(e.record);
      done.set(k, r);
    } else if (e.type === 'run') {
      done.set(runKey(e.run.strategy, e.run.repeat), { ...e.run, rounds: [...e.run.rounds] });
    }
  };
  let prior = options.resume;
  let restarts = 0;
  for (;;) {
    const { lost } = await attempt(config, prior);
    if (!lost || signal.aborted) return;

    // The context or device is gone, and every tensor with it. Keep the completed rounds, get a
    // new backend, and continue from the last completed round of each run.
    restarts++;
    const kept = [...done.values()].reduce((a, r) => a + r.rounds.length, 0);
    const { next, why } = await nextBackend(restarts, lost);
    if (next === 'wasm') await parts.switchToWasm();
    else parts.reportBackend();
    const l = LOST[lost];
    parts.notice(
      `${l.what[0]!.toUpperCase()}${l.what.slice(1)} was lost during the run (a GPU reset, a driver update or too many GPU pages can cause this). ` +
        `The ${kept} completed round${kept === 1 ? ' is' : 's are'} kept; continuing from the last completed round ` +
        (next === lost ? `on ${l.fresh}.` : `on the wasm backend (CPU), because ${why}. Results may differ from ${l.label} in the last digits.`),
    );
    config = { ...config, backend: next };
    prior = { config, runs: [...done.values()] };
  }

  /** One attempt: runs until the end, a stop, a failure, or the loss of the GPU backend (`lost` names it). */
  async function attempt(attemptConfig: ExperimentConfig, from: SuperviseOptions['resume']): Promise<{ lost: GpuBackendName | null }> {
    const ctrl = new AbortController();
    const forward = () => ctrl.abort();
    signal.addEventListener('abort', forward);
    let lost = false;
    const gpu = parts.context.active();
    let onLost!: () => void;
    const lostPromise = new Promise<void>((resolve) => (onLost = resolve));
    const loseAttempt = () => {
      lost = true;
      ctrl.abort();
      onLost();
    };
    const unwatch = parts.context.watch(loseAttempt);
    const settleLoss = async () => {
      await new Promise<void>((r) => setTimeout(r, 0));
      live();
    };
    /**
     * After a loss this attempt only winds down: nothing it reports is news, and a round (or a
     * model) it finishes may rest on reads from the lost context. The context-lost event arrives
     * as a task, after the loss: ask the context itself, synchronously, before keeping anything.
     */
    const live = () => {
      if (!lost && parts.context.lost()) loseAttempt();
      return !lost;
    };
    const { waitIfPaused, onFinalModel } = options;
    const running = parts.run(attemptConfig, {
      signal: ctrl.signal,
      onEvent: (e) => {
        if (!live()) return;
        track(e);
        options.onEvent(e);
      },
      ...(waitIfPaused ? { waitIfPaused: () => waitIfPaused(() => lost) } : {}),
      ...(options.grid ? { grid: options.grid } : {}),
      ...(from ? { resume: from } : {}),
      ...(onFinalModel ? { onFinalModel: (run, model) => (live() ? onFinalModel(run, model) : undefined) } : {}),
    });
    try {
      // A lost context or device can leave a pending GPU read that never settles: wait for the attempt
      // to wind down, but not forever.
      await Promise.race([running, lostPromise.then(() => new Promise<void>((r) => setTimeout(r, windDownMs)))]);
    } catch (err) {
      // A lost WebGPU device rejects the reads in flight (an AbortError) before its `lost`
      // promise settles: give the loss one task to be reported before judging the failure.
      if (!lost) await settleLoss();
      if (!lost) throw err;
    } finally {
      unwatch();
      signal.removeEventListener('abort', forward);
    }
    // The same for an attempt that ended as stopped: a read rejected with an AbortError reads as a stop.
    if (!lost && !signal.aborted) await settleLoss();
    if (lost) running.catch(() => undefined); // an attempt still winding down may fail later: nothing to report
    // Only a GPU backend is watched, so a loss always names one.
    return { lost: lost ? gpu ?? 'webgl' : null };
  }

  /** The backend for the next attempt, and why it is not the lost one. */
  async function nextBackend(restarts: number, lost: GpuBackendName): Promise<{ next: GpuBackendName | 'wasm'; why: string }> {
    if (restarts > maxRestarts) return { next: 'wasm', why: `${LOST[lost].what.replace("the GPU's ", 'the ')} was lost ${restarts} times in this run` };
    try {
      await parts.freshGpu(lost);
      return { next: lost, why: '' };
    } catch (err) {
      return { next: 'wasm', why: err instanceof Error ? err.message : String(err) };
    }
  }
}
