/**
 * The automatic backend choice as a pure function: the calibration's timings in, the pick and a
 * sentence that says why out. No tfjs: the page, the results checks and the tests use it; the
 * measuring is `src/app/host/calibrate.ts`.
 *
 * A software renderer (SwiftShader, llvmpipe, softpipe, Microsoft Basic Render Driver) is measured
 * like any other backend and may win; its name only explains a result.
 */
import type { BackendName } from './catalog.ts';

/** One backend's calibration: the same small workload of the chosen model on each backend. */
export interface BackendTiming {
  backend: BackendName;
  /**
   * Milliseconds of the measured workload (training steps, then one predict chunk), after a
   * warm-up that is not counted. When `complete` is false the measuring stopped early because it
   * was already slower than the best so far, and `ms` is a lower bound.
   */
  ms: number;
  complete: boolean;
  /** The warm-up (one training step and one predict chunk; WebGL compiles its shaders here), not counted in `ms`. */
  warmupMs: number;
  /** Mean milliseconds per training step measured (null if none was). */
  stepMs: number | null;
  /** Milliseconds of the predict chunk (null if it was not reached). */
  predictMs: number | null;
  /**
   * Set when the backend was given up on at a deadline (warm-up included): the wall time it had
   * spent, compared with the best's warm-up plus measured time. Null otherwise.
   */
  timedOutAfterMs: number | null;
  /** WebGL's unmasked renderer string, or the WebGPU adapter's label (`adapterLabel`); null elsewhere. */
  renderer: string | null;
  /** Why the backend could not be measured (it did not start, or a kernel threw); null when measured. */
  error: string | null;
}

/** What a run records about an automatic choice (`environment.backendChoice` in results). */
export interface BackendChoiceRecord {
  requested: 'auto';
  picked: BackendName;
  reason: string;
  /** The calibration's timings; empty where nothing was measured (Node: auto is wasm). */
  timings: BackendTiming[];
  /** Whether the timings came from the cache (an earlier calibration of the same model on the same machine). */
  cached: boolean;
}

const SOFTWARE_RENDERERS: readonly [RegExp, string][] = [
  [/swiftshader/i, 'SwiftShader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/softpipe/i, 'softpipe'],
  [/microsoft basic render/i, 'Microsoft Basic Render Driver'],
  // A WebGPU adapter that says it is a fallback (`isFallbackAdapter`; `adapterLabel` writes it).
  [/fallback adapter/i, 'a fallback adapter'],
];

/**
 * The software renderer a WebGL renderer string (or a WebGPU adapter label) names, or null.
 * @example softwareRenderer('ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)), SwiftShader driver)') // 'SwiftShader'
 */
export function softwareRenderer(renderer: string | null): string | null {
  if (!renderer) return null;
  for (const [re, name] of SOFTWARE_RENDERERS) if (re.test(renderer)) return name;
  return null;
}

const LABEL: Record<BackendName, string> = { webgl: 'WebGL', webgpu: 'WebGPU', wasm: 'wasm', cpu: 'cpu' };

/** "24x", "2.5x": whole numbers from 10 up. */
export function formatRatio(r: number): string {
  return r >= 10 ? `${Math.round(r)}x` : `${(Math.floor(r * 10) / 10).toFixed(1)}x`;
}

/**
 * Picks the fastest backend that was measured completely and says why, naming the runner-up (and
 * its software renderer, if any) and any backend that could not start.
 *
 * @example
 *   pickBackend([{ backend: 'wasm', ms: 100, complete: true, ... }, { backend: 'webgl', ms: 2400, complete: false, renderer: '... SwiftShader ...', ... }])
 *   // { picked: 'wasm', reason: 'at least 24x faster than WebGL here, which is CPU-emulated (SwiftShader)' }
 * @throws Error when no timing is complete (nothing to pick from).
 */
export function pickBackend(timings: readonly BackendTiming[]): { picked: BackendName; reason: string } {
  const measured = timings.filter((t) => t.error === null && t.complete && Number.isFinite(t.ms));
  if (measured.length === 0) throw new Error(`no backend was measured completely (${timings.map((t) => `${t.backend}: ${t.error ?? 'incomplete'}`).join('; ') || 'none tried'})`);
  // Ties go to the earlier candidate (the catalog's order).
  const best = measured.reduce((a, b) => (b.ms < a.ms ? b : a));
  const others = timings.filter((t) => t !== best && t.error === null);
  const failed = timings.filter((t) => t.error !== null);
  const parts: string[] = [];
  if (others.length > 0) {
    // The closest competitor: the smallest ratio (a lower bound for one stopped early).
    const ratioOf = (t: BackendTiming) =>
      t.timedOutAfterMs !== null ? t.timedOutAfterMs / Math.max(best.warmupMs + best.ms, 1e-9) : t.ms / Math.max(best.ms, 1e-9);
    const next = others.reduce((a, b) => (ratioOf(b) < ratioOf(a) ? b : a));
    const r = ratioOf(next);
    const sw = softwareRenderer(next.renderer);
    const swText = sw ? `, which is CPU-emulated (${sw})` : '';
    parts.push(r < 1.1 && next.complete && next.timedOutAfterMs === null
      ? `about as fast as ${LABEL[next.backend]} here (${formatRatio(r)})${swText}; the first measured wins a tie`
      : `${next.complete ? '' : 'at least '}${formatRatio(r)} faster than ${LABEL[next.backend]} here${swText}`);
  } else {
    parts.push('the only backend measured here');
  }
  for (const f of failed) parts.push(`${LABEL[f.backend]} could not run (${f.error})`);
  return { picked: best.backend, reason: parts.join('; ') };
}

/** The cache key of a calibration: what its timings depend on. */
export interface CalibrationKey {
  model: string;
  inputShape: readonly number[];
  numClasses: number;
  batchSize: number;
  chunkSize: number;
  /** WebGL's renderer string (null where WebGL does not start). */
  renderer: string | null;
  /** The WebGPU adapter's label (null where there is no WebGPU). */
  adapter: string | null;
  tfjsVersion: string;
  /** navigator.hardwareConcurrency and cross-origin isolation decide wasm's threads. */
  threads: string;
}

export function calibrationKey(k: CalibrationKey): string {
  return JSON.stringify([k.tfjsVersion, k.model, k.inputShape, k.numClasses, k.batchSize, k.chunkSize, k.renderer, k.adapter, k.threads]);
}

/**
 * The backend a Node process runs for a configured one: 'auto' is wasm there (no WebGL in Node,
 * and cpu is the slow reference), recorded as a choice; any other name runs as given.
 */
export function nodeBackend(configured: BackendName | 'auto'): { backend: BackendName; choice: BackendChoiceRecord | null } {
  if (configured !== 'auto') return { backend: configured, choice: null };
  return {
    backend: 'wasm',
    choice: { requested: 'auto', picked: 'wasm', reason: "in Node 'auto' is wasm (no WebGL here; cpu is the slow reference)", timings: [], cached: false },
  };
}
