/**
 * A faster `Sum` over the leading axes for the tfjs wasm backend: the bias gradient of every
 * conv and dense layer (tfjs's `add(x, bias)` gradient sums dy [B,H,W,C] over axes [0, 1, 2]).
 *
 * tfjs-backend-wasm 4.22's `Sum` only reduces innermost axes, so for leading axes it first
 * transposes the whole input (a copy) and then sums rows. This kernel replaces it: when the
 * input is float32 and the reduced axes are exactly the leading ones (rank ≥ 2, at least one
 * axis kept, at least 2 rows), x is seen as one image of N rows, 1 column and C channels (C the
 * product of the kept axes; the same buffer, no copy) and reduced by wasm's XNNPACK `AvgPool`
 * with an N x 1 window, then multiplied by N. Like the original, it accumulates in float32
 * (cpu accumulates in float64; the tests compare within tolerance). Every other case goes to
 * the original kernel, unchanged.
 *
 * Measured in Node 20 (wasm, 1 thread, interleaved runs, loaded machine, min CPU time): the Gal
 * CNN's two bias gradients, dy [B,25,25,32] and [B,22,22,32] over [0, 1, 2]: 0.21 and 0.13 ms
 * at batch 32 (original 1.65 and 1.28), 0.44 and 0.30 ms at batch 128 (original 4.45, 3.41).
 * A plain JS loop over wasm memory with float64 accumulators was ~1.1 and ~4.4 ms: no better.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runWasmKernel, wasmKernelReplacement } from './wasm-kernel-util.ts';

const KERNEL_NAME = 'Sum';

/** How many leading axes `axis` reduces if it is exactly [0, 1, …, r − 1] (any order), else 0. */
export function leadingAxes(axis: number | number[] | undefined, rank: number): number {
  if (axis === undefined || axis === null) return 0;
  const axes = tf.util.parseAxisParam(axis, [...Array(rank).keys()].map(() => 1));
  const sorted = [...new Set(axes)].sort((p, q) => p - q);
  if (sorted.length !== axes.length) return 0;
  for (let i = 0; i < sorted.length; i++) if (sorted[i] !== i) return 0;
  return sorted.length;
}

function sumWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] {
  const original = replacement.original();
  if (original === undefined) throw new Error(`wasm ${KERNEL_NAME}: no original kernel registered to fall back to`);
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs;
  const { axis, keepDims = false } = (args.attrs ?? {}) as { axis?: number | number[]; keepDims?: boolean };
  const rank = x?.shape.length ?? 0;
  const r = x !== undefined && x.dtype === 'float32' && rank >= 2 ? leadingAxes(axis, rank) : 0;
  if (x === undefined || r === 0 || r >= rank || tf.util.sizeFromShape(x.shape) === 0) {
    return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  }
  const n = tf.util.sizeFromShape(x.shape.slice(0, r));
  const c = tf.util.sizeFromShape(x.shape.slice(r));
  if (n < 2) return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  const outShape = keepDims ? x.shape.map((d, i) => (i < r ? 1 : d)) : x.shape.slice(r);
  // x seen as one image of n rows, 1 column and c channels (same buffer), pooled over all n rows.
  const image: tf.TensorInfo = { dataId: x.dataId, shape: [1, n, 1, c], dtype: 'float32' };
  const mean = runWasmKernel(backend, 'AvgPool', { x: image }, { filterSize: [n, 1], strides: [1, 1], pad: 'valid' }, KERNEL_NAME);
  try {
    const values = backend.typedArrayFromHeap(mean) as Float32Array;
    for (let j = 0; j < c; j++) values[j] = values[j]! * n;
    return runWasmKernel(backend, 'Reshape', { x: mean }, { shape: outShape }, KERNEL_NAME);
  } finally {
    backend.disposeData(mean.dataId);
  }
}

const replacement = wasmKernelReplacement(KERNEL_NAME, sumWasm as unknown as tf.KernelFunc);

/** The kernel, for `tf.registerKernel` (registered that way it keeps no original to fall back to). */
export const wasmSumConfig: tf.KernelConfig = replacement.config;
/**
 * Replaces tfjs-backend-wasm's `Sum` with ours, keeping the original and its setup
 * (`replaceWasmKernel`). Idempotent; a no-op until tfjs-backend-wasm is imported.
 * @returns true if this call registered it.
 */
export const registerWasmSum = replacement.register;
/** The kernel ours replaced (tfjs-backend-wasm's), once registered; for tests and benchmarks. */
export const originalWasmSum = replacement.original;
