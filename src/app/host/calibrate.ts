/**
 * `backend: 'auto'` in the page: a short calibration of the chosen model on each candidate backend
 * (`AUTO_CANDIDATES`; webgpu only where the browser has WebGPU), the fastest wins (`pickBackend`), cached per model and machine in IndexedDB.
 *
 * The workload, on random inputs of the dataset's shape: a warm-up (one training step and one
 * predict chunk: WebGL compiles its shader programs here, a one-off cost a run pays once too; it is
 * timed but not counted), then `STEPS` training steps at the configured batch size (the engine's
 * own `fitSeeded`) and one predict chunk of `chunkSize` rows (the engine's `predictProbs`), each
 * timed around an awaited read. A candidate stops as soon as its time exceeds the best so far: it
 * cannot win, and its time is then a lower bound. The reference (the first candidate, wasm) is
 * always measured completely. A candidate still busy after `MIN_DEADLINE_MS` (or `DEADLINE_FACTOR`
 * times the best's whole measurement, if longer), warm-up included, is given up on: on this
 * machine SwiftShader's WebGL spends about 30 s in the CNN's warm-up alone.
 */
import * as tf from '@tensorflow/tfjs';
import { BUILTIN_DATASETS } from '../../../datasets/catalog.ts';
import { createModel, disposeModel } from '../../../models/index.ts';
import { predictProbs } from '../../../models/predict.ts';
import { fitSeeded } from '../../../models/train.ts';
import { calibrationKey, pickBackend, type BackendChoiceRecord, type BackendTiming } from '../../backend/auto-choice.ts';
import { AUTO_CANDIDATES, type BackendName } from '../../backend/catalog.ts';
import { backendInfo } from '../../backend/index.ts';
import { probeAdapter, webgpuRegistered } from '../../backend/webgpu.ts';
import type { ExperimentConfig } from '../../engine/config.ts';
import { Rng } from '../../rng.ts';

/** Measured training steps per backend (after the warm-up step). */
export const STEPS = 3;

/** What the calibration measures: the chosen model at the run's batch and chunk sizes. */
export type Workload = Pick<ExperimentConfig, 'dataset' | 'model' | 'batchSize' | 'chunkSize'>;

export interface CalibrateParts {
  /** Makes `name` the active backend (serialised with the host's other switches); throws if it cannot start. */
  use(name: BackendName): Promise<void>;
  /** Told before each backend is measured (for a status line). */
  progress?(message: string): void;
  /**
   * Drops the work still queued on a backend given up on at its deadline (WebGL: lose the context
   * and start a fresh one), so that it does not keep the GPU process, which also draws the page,
   * busy for tens of seconds. Without it, the queued work finishes in the background.
   */
  abandon?(name: BackendName): Promise<void>;
}

const now = () => performance.now();

/** A candidate is given at least this long, warm-up included, before it is given up on. */
export const MIN_DEADLINE_MS = 5000;
/** ... or this many times the best candidate's whole measurement (warm-up included), if longer. */
export const DEADLINE_FACTOR = 4;

class TimedOut extends Error {}

/**
 * Measures one backend (already active). Stops issuing work once the counted time exceeds
 * `budgetMs` (the best so far), and gives up waiting once `deadlineMs` of wall time (warm-up
 * included) have passed: a CPU-emulated WebGL can spend tens of seconds compiling and running its
 * first step. Work already queued then finishes in the background, and its model is disposed when
 * it does.
 */
export async function measureActive(
  w: Workload, budgetMs: number, deadlineMs = Infinity, abandon?: () => Promise<void>,
): Promise<Omit<BackendTiming, 'backend' | 'error'>> {
  const spec = BUILTIN_DATASETS.get(w.dataset);
  if (!spec) throw new RangeError(`dataset '${w.dataset}' is not in the catalog`);
  const shape = [...spec.shape];
  const d = shape.reduce((a, b) => a * b, 1);
  const rng = new Rng(1);
  const renderer = backendInfo().renderer;
  const model = createModel(w.model, { inputShape: shape, numClasses: spec.numClasses, rng: rng.fork('init') });
  // Random inputs and labels, made on the CPU: the same on every backend.
  const rows = Math.max(w.batchSize, w.chunkSize);
  const xs = Float32Array.from({ length: rows * d }, () => rng.next());
  const inputs = (idx: Int32Array) => {
    const x = new Float32Array(idx.length * d);
    idx.forEach((row, k) => x.set(xs.subarray(row * d, (row + 1) * d), k * d));
    return tf.tensor(x, [idx.length, ...shape]);
  };
  const batch = (idx: Int32Array) => {
    const y = new Float32Array(idx.length * spec.numClasses);
    idx.forEach((row, k) => (y[k * spec.numClasses + (row % spec.numClasses)] = 1));
    return { x: inputs(idx), y: tf.tensor2d(y, [idx.length, spec.numClasses]) };
  };
  const trainIdx = Int32Array.from({ length: w.batchSize }, (_, i) => i);
  const predictIdx = Int32Array.from({ length: w.chunkSize }, (_, i) => i);
  const started = now();
  let inflight: Promise<unknown> = Promise.resolve();
  /** Awaits `work()`, or throws TimedOut at the deadline (the work goes on; `inflight` settles when it ends). */
  const within = async (work: () => Promise<unknown>): Promise<void> => {
    const p = work();
    inflight = p.catch(() => undefined);
    if (!Number.isFinite(deadlineMs)) {
      await p;
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), Math.max(0, started + deadlineMs - now()))));
    const r = await Promise.race([p.then(() => 'done' as const), late]);
    clearTimeout(timer);
    // Work that never yields to the timer (wasm can finish a step in microtasks) is judged by the clock.
    if (r === 'late' || now() - started > deadlineMs) throw new TimedOut();
  };
  const step = () => within(() => fitSeeded(model, { indices: trainIdx, batch }, { rng: rng.fork('fit'), epochs: 1, batchSize: w.batchSize }));
  const predict = () => within(async () => {
    const p = predictProbs(model, inputs, predictIdx, { chunkSize: w.chunkSize });
    try {
      await p.data();
    } finally {
      p.dispose();
    }
  });
  let warmupMs: number | null = null;
  let ms = 0;
  let trainMs = 0;
  let steps = 0;
  let predictMs: number | null = null;
  let timedOut = false;
  try {
    let t = now();
    await step();
    await predict();
    warmupMs = now() - t;
    while (steps < STEPS && ms <= budgetMs) {
      t = now();
      await step();
      trainMs += now() - t;
      ms = trainMs;
      steps++;
    }
    if (ms <= budgetMs) {
      t = now();
      await predict();
      predictMs = now() - t;
      ms += predictMs;
    }
  } catch (err) {
    if (!(err instanceof TimedOut)) throw err;
    timedOut = true;
  } finally {
    if (!timedOut) disposeModel(model);
    else if (!abandon) void inflight.finally(() => disposeModel(model));
  }
  if (timedOut && abandon) {
    // The queued work is dropped with the backend's state: free the model first, then abandon.
    try {
      disposeModel(model);
    } catch {
      // its textures go with the context anyway
    }
    await abandon();
  }
  return {
    ms, complete: !timedOut && steps === STEPS && predictMs !== null && ms <= budgetMs,
    warmupMs: warmupMs ?? now() - started, stepMs: steps > 0 ? trainMs / steps : null, predictMs, renderer,
    timedOutAfterMs: timedOut ? now() - started : null,
  };
}

/**
 * The candidates this browser can offer: `AUTO_CANDIDATES`, less webgpu where there is no WebGPU
 * adapter (`webgpuAdapter` null: no `navigator.gpu`, as in a browser without WebGPU or outside a
 * secure context, or no adapter, as in Chromium without a GPU). An adapter that fails to start is
 * measured as an error, as a WebGL that does not start is.
 */
export function availableCandidates(webgpuAdapter: string | null): BackendName[] {
  return AUTO_CANDIDATES.filter((b) => b !== 'webgpu' || webgpuAdapter !== null);
}

/** The WebGPU adapter a fresh request gets here, as a label (null where there is none). */
export async function webgpuAdapterLabel(): Promise<string | null> {
  return webgpuRegistered() ? probeAdapter() : null;
}

/** Measures every candidate in order, each against the best so far. */
export async function measureCandidates(w: Workload, parts: CalibrateParts, candidates: readonly BackendName[] = AUTO_CANDIDATES): Promise<BackendTiming[]> {
  const timings: BackendTiming[] = [];
  let best: BackendTiming | null = null;
  for (const backend of candidates) {
    parts.progress?.(`measuring ${backend} on ${w.model} (choosing the fastest backend; once per model on this machine)`);
    try {
      await parts.use(backend);
      const deadline = best ? Math.max(MIN_DEADLINE_MS, DEADLINE_FACTOR * (best.warmupMs + best.ms)) : Infinity;
      const t: BackendTiming = { backend, error: null, ...(await measureActive(w, best?.ms ?? Infinity, deadline, parts.abandon && (() => parts.abandon!(backend)))) };
      timings.push(t);
      if (t.complete && (!best || t.ms < best.ms)) best = t;
    } catch (err) {
      timings.push({ backend, ms: 0, complete: false, warmupMs: 0, stepMs: null, predictMs: null, renderer: null, timedOutAfterMs: null, error: err instanceof Error ? err.message : String(err) });
    }
  }
  return timings;
}

/** WebGL's unmasked renderer string from a throwaway context (null where there is none): part of the cache key. */
export function webglRenderer(): string | null {
  try {
    const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(1, 1) : typeof document !== 'undefined' ? document.createElement('canvas') : null;
    const gl = (canvas?.getContext('webgl2') ?? canvas?.getContext('webgl')) as WebGLRenderingContext | null | undefined;
    if (!gl) return null;
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    return renderer;
  } catch {
    return null;
  }
}

/** The cache key of `w` on this machine and browser (the WebGL renderer and the WebGPU adapter, `webgpuAdapterLabel`, included). */
export function workloadKey(w: Workload, webgpuAdapter: string | null): string {
  const spec = BUILTIN_DATASETS.get(w.dataset);
  const threads = `${typeof navigator !== 'undefined' ? navigator.hardwareConcurrency : 0}:${typeof crossOriginIsolated !== 'undefined' && crossOriginIsolated}`;
  return calibrationKey({
    model: w.model, inputShape: spec ? [...spec.shape] : [], numClasses: spec?.numClasses ?? 0, batchSize: w.batchSize, chunkSize: w.chunkSize,
    renderer: webglRenderer(), adapter: webgpuAdapter, tfjsVersion: tf.version.tfjs, threads,
  });
}

/** Calibration timings by workload key, in IndexedDB where there is one (a worker or a page); otherwise none are kept. */
export interface TimingCache {
  get(key: string): Promise<BackendTiming[] | null>;
  set(key: string, timings: BackendTiming[]): Promise<void>;
}

const DB = 'activelab-backend-calibration';
const STORE = 'timings';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

/** The IndexedDB cache; a failing database only means calibrating again. */
export function indexedDbCache(): TimingCache | null {
  if (typeof indexedDB === 'undefined') return null;
  let db: Promise<IDBDatabase> | null = null;
  const open = () => {
    db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open(DB, 1);
      r.onupgradeneeded = () => r.result.createObjectStore(STORE);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error ?? new Error('IndexedDB open failed'));
    });
    return db;
  };
  return {
    async get(key) {
      try {
        const value: unknown = await request((await open()).transaction(STORE).objectStore(STORE).get(key));
        return Array.isArray(value) ? (value as BackendTiming[]) : null;
      } catch {
        return null;
      }
    },
    async set(key, timings) {
      try {
        await request((await open()).transaction(STORE, 'readwrite').objectStore(STORE).put(timings, key));
      } catch {
        // Not kept: the next page load measures again.
      }
    },
  };
}

/**
 * Resolves 'auto' for `w`: the cached timings of this model on this machine, or a fresh
 * calibration; then the fastest backend is made active.
 */
export async function chooseBackend(w: Workload, parts: CalibrateParts, cache: TimingCache | null): Promise<BackendChoiceRecord> {
  const adapter = await webgpuAdapterLabel();
  const key = workloadKey(w, adapter);
  const stored = cache ? await cache.get(key) : null;
  if (stored) {
    try {
      const pick = pickBackend(stored);
      await parts.use(pick.picked);
      return { requested: 'auto', ...pick, timings: stored, cached: true };
    } catch {
      // An unusable entry, or its pick no longer starts: measure again.
    }
  }
  const timings = await measureCandidates(w, parts, availableCandidates(adapter));
  const pick = pickBackend(timings);
  await cache?.set(key, timings);
  await parts.use(pick.picked);
  return { requested: 'auto', ...pick, timings, cached: false };
}
