/**
 * What the wasm kernel suites (tests/kernels/wasm-*.test.ts) share: cpu references computed
 * before the switch to wasm, the relative comparison of a kernel's output with cpu's, the
 * checks of a kernel that replaces tfjs-backend-wasm's own, leak counts (engine tensors and the
 * backend's buffers), and the bars-image training task a small conv net learns on wasm and cpu.
 *
 * Runs in Node and in Chromium: tfjs and vitest only, no Node APIs.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import { registerWasmKernels } from '../../src/backend/wasm-kernels.ts';
import { onBackend } from './backends.ts';
import { seededValues } from './seeded.ts';

// ---------------------------------------------------------------------------------------------
// cpu against wasm
// ---------------------------------------------------------------------------------------------

/**
 * In a describe block: run `computeReferences` on the cpu backend, then switch to wasm (and
 * assert it is active) before the block's tests. The cpu hook is registered first, so it runs
 * first; the tests then compare what wasm gives with what `computeReferences` stored.
 */
export function cpuReferencesThenWasm(computeReferences: () => Promise<void>): void {
  beforeAll(async () => {
    await useBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    await computeReferences();
  });
  onBackend('wasm');
}

/**
 * Asserts `actual` has `expected`'s length and that its largest absolute difference from it,
 * relative to max(1, largest |expected|), is at most `relTol` (default 1e-4: float32 sums in
 * another order than cpu's).
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, relTol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1;
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
  }
  expect(maxDiff / scale).toBeLessThanOrEqual(relTol);
}

/** An NHWC shape. */
export type Shape4 = [number, number, number, number];

/**
 * A gradient kernel's case prepared on cpu: the case, its seeded upstream gradient `dy` (of the
 * forward op's output shape) and cpu's result. A suite adds its seeded operand (x or the filter).
 */
export interface GradCase<C> {
  c: C;
  dy: Float32Array;
  dyShape: Shape4;
  /** cpu's gradient, read back. */
  expected: Float32Array;
}

// ---------------------------------------------------------------------------------------------
// A kernel that replaces tfjs-backend-wasm's own
// ---------------------------------------------------------------------------------------------

/** What a replacing kernel's module exports: its config, the kernel it replaced, its register. */
export interface ReplacingKernel {
  config: tf.KernelConfig;
  original: () => tf.KernelConfig | undefined;
  register: () => boolean;
}

/**
 * Asserts `k.config` is the kernel registered for wasm under its name, that it kept the
 * replaced kernel (a different function) and its setup (the original's wasm binding must still
 * be initialised), and that registering again, alone or through registerWasmKernels, is a no-op
 * that never wraps twice.
 */
export function expectReplacesWasmKernel(k: ReplacingKernel): void {
  const registered = tf.getKernel(k.config.kernelName, 'wasm');
  expect(registered?.kernelFunc).toBe(k.config.kernelFunc);
  const original = k.original();
  expect(original).toBeDefined();
  expect(original!.kernelFunc).not.toBe(k.config.kernelFunc);
  expect(registered?.setupFunc).toBe(original!.setupFunc);

  expect(k.register()).toBe(false);
  expect(() => registerWasmKernels()).not.toThrow();
  expect(tf.getKernel(k.config.kernelName, 'wasm')?.kernelFunc).toBe(k.config.kernelFunc);
  expect(k.original()).toBe(original);
}

/** The replaced (tfjs-backend-wasm) kernel called directly on the active backend; the caller disposes the result. */
export function runOriginalKernel(original: tf.KernelConfig | undefined, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor {
  if (!original) throw new Error('no original kernel: was the replacing kernel registered?');
  const info = original.kernelFunc({ inputs, backend: tf.backend(), attrs: attrs as tf.NamedAttrMap }) as tf.TensorInfo;
  return tf.engine().makeTensorFromTensorInfo(info);
}

// ---------------------------------------------------------------------------------------------
// Leaks
// ---------------------------------------------------------------------------------------------

/**
 * tf.memory() (tensors, data buffers and bytes the engine knows of) plus the active backend's
 * own count of data ids: a kernel's intermediates are backend TensorInfos the engine never sees.
 */
export const leakCounts = () => ({ ...tf.memory(), buffers: tf.backend().numDataIds() });

/** Engine tensors and backend buffers only. */
export const liveCounts = () => ({ tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() });

/**
 * Runs `run` once (warm-up: caches, lazily made operators), takes leakCounts(), runs it
 * `repeats` more times and asserts the counts are unchanged. Returns the counts taken.
 */
export async function expectNoLeakOverRepeats(run: () => unknown, repeats: number): Promise<ReturnType<typeof leakCounts>> {
  await run();
  const before = leakCounts();
  for (let k = 0; k < repeats; k++) await run();
  expect(leakCounts()).toEqual(before);
  return before;
}

/** Calls `make` and asserts it added exactly one engine tensor and one backend buffer: its result. */
export function expectOneNewTensorAndBuffer<T>(make: () => T): T {
  const mid = liveCounts();
  const out = make();
  expect(liveCounts()).toEqual({ tensors: mid.tensors + 1, buffers: mid.buffers + 1 });
  return out;
}

// ---------------------------------------------------------------------------------------------
// The bars-image training task
// ---------------------------------------------------------------------------------------------

/** The images: `n` (64) noisy side x side images, seeded, of a horizontal (class 0) or vertical bar. */
export interface BarsImages {
  n?: number;
  side: number;
  noiseSeed: number;
  posSeed: number;
}

/** A compiled model with the bars images (xs [n, side, side, 1]) and one-hot labels (ys [n, 2]). */
export interface BarsTask {
  model: tf.Sequential;
  xs: tf.Tensor4D;
  ys: tf.Tensor2D;
}

/** A seeded glorot-uniform initializer, so the nets start from the same weights on every backend. */
export const glorot = (seed: number) => tf.initializers.glorotUniform({ seed });

/**
 * The bars images (sample s: class s % 2, the bar at a seeded row or column in 1..side-2, plus
 * 0.3 x seeded noise), and a sequential model of `layers` (the first given inputShape
 * [side, side, 1] by the caller) compiled with adam(0.01) and categorical cross-entropy.
 */
export function barsTask(images: BarsImages, layers: (side: number) => tf.layers.Layer[]): BarsTask {
  const { n = 64, side, noiseSeed, posSeed } = images;
  const noise = seededValues(n * side * side, noiseSeed);
  const pos = seededValues(n, posSeed);
  const pixels = new Float32Array(n * side * side);
  const labels = new Float32Array(n * 2);
  for (let s = 0; s < n; s++) {
    const cls = s % 2;
    const at = 1 + Math.floor(((pos[s]! + 1) / 2) * (side - 2));
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const i = (s * side + r) * side + c;
        pixels[i] = ((cls === 0 ? r === at : c === at) ? 1 : 0) + 0.3 * noise[i]!;
      }
    }
    labels[s * 2 + cls] = 1;
  }
  const model = tf.sequential({ layers: layers(side) });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  return { model, xs: tf.tensor4d(pixels, [n, side, side, 1]), ys: tf.tensor2d(labels, [n, 2]) };
}

export interface TrainRun {
  lossBefore: number;
  lossAfter: number;
  /** The loss of each epoch. */
  losses: number[];
  /** Largest change of any weight of the first layer's kernel (its first weight) during training. */
  kernelMoved: number;
}

/**
 * Trains `task` with `fit` for `epochs` epochs (batch 16, shuffle off) on the active backend,
 * evaluating the loss (batch 32) before and after; then disposes the task.
 */
export async function trainBars(task: BarsTask, epochs: number): Promise<TrainRun> {
  const { model, xs, ys } = task;
  const evaluate = () => tf.tidy(() => (model.evaluate(xs, ys, { batchSize: 32 }) as tf.Scalar).dataSync()[0]!);
  const kernelBefore = await model.layers[0]!.getWeights()[0]!.data();
  const lossBefore = evaluate();
  const history = await model.fit(xs, ys, { epochs, batchSize: 16, shuffle: false, verbose: 0 });
  const lossAfter = evaluate();
  const kernelAfter = await model.layers[0]!.getWeights()[0]!.data();
  let kernelMoved = 0;
  for (let i = 0; i < kernelBefore.length; i++) {
    kernelMoved = Math.max(kernelMoved, Math.abs(kernelAfter[i]! - kernelBefore[i]!));
  }
  tf.dispose([xs, ys]);
  model.dispose();
  return { lossBefore, lossAfter, losses: history.history.loss as number[], kernelMoved };
}

/** The kernels one `trainOnBatch` step of `task` runs on the active backend; then disposes the task. */
export async function kernelsOfATrainingStep(task: BarsTask): Promise<string[]> {
  const info = await tf.profile(async () => {
    await task.model.trainOnBatch(task.xs, task.ys);
  });
  tf.dispose([task.xs, task.ys]);
  task.model.dispose();
  return info.kernelNames;
}

/** Runs `train` on the wasm backend, asserting wasm is active before and still active after. */
export async function trainOnWasm(train: () => Promise<TrainRun>): Promise<TrainRun> {
  expect(tf.getBackend()).toBe('wasm');
  const run = await train();
  expect(tf.getBackend()).toBe('wasm');
  return run;
}

/**
 * Asserts a wasm run followed cpu's: every epoch's loss finite, the loss before training equal to
 * 4 decimals, and every epoch's loss within 1e-3 of cpu's.
 */
export function expectSameLossCurve(run: TrainRun, cpu: TrainRun): void {
  expect(run.losses.every(Number.isFinite)).toBe(true);
  expect(run.lossBefore).toBeCloseTo(cpu.lossBefore, 4);
  expect(run.losses.length).toBe(cpu.losses.length);
  for (const [e, loss] of run.losses.entries()) expect(Math.abs(loss - cpu.losses[e]!)).toBeLessThan(1e-3);
}
