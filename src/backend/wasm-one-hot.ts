/**
 * A correct float `OneHot` for the tfjs wasm backend.
 *
 * tfjs-backend-wasm 4.22's `OneHot` writes int32 values whatever the requested dtype, so
 * `tf.oneHot(i, c, 1, 0, 'float32')` on wasm gives 1.4e-45 (the int bits of 1 read as a float)
 * instead of 1, and its on/off values are passed to the wasm binary as int32 (0.5 becomes 0).
 * This kernel keeps the original for int32 outputs (what it gets right) and writes any other
 * dtype in JavaScript, straight into the output's wasm memory, as tfjs-backend-cpu does:
 * `offValue` everywhere, `onValue` at each in-range index (an index outside [0, depth) gives
 * an all-`offValue` row).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { wasmKernelReplacement } from './wasm-kernel-util.ts';

const KERNEL_NAME = 'OneHot';

/** The attrs tfjs-core's `oneHot` op sends (`OneHotAttrs`). */
interface OneHotAttrs {
  depth: number;
  onValue: number;
  offValue: number;
  dtype: tf.DataType;
}

function oneHotWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] {
  const original = replacement.original();
  const backend = args.backend as BackendWasm;
  const { indices } = args.inputs;
  const { depth, onValue, offValue, dtype } = (args.attrs ?? {}) as unknown as OneHotAttrs;
  if (indices === undefined || dtype === 'int32' || dtype === 'string' || dtype === 'complex64' || indices.dtype !== 'int32') {
    if (original === undefined) throw new Error(`wasm ${KERNEL_NAME}: no original kernel registered to fall back to`);
    return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  }
  const out = backend.makeOutput([...indices.shape, depth], dtype);
  // Views of the heap only after makeOutput, which may grow (and so detach) it.
  const idx = backend.typedArrayFromHeap(indices) as Int32Array;
  const values = backend.typedArrayFromHeap(out);
  values.fill(offValue);
  for (let e = 0; e < idx.length; e++) {
    const i = idx[e]!;
    if (i >= 0 && i < depth) values[e * depth + i] = onValue;
  }
  return out;
}

const replacement = wasmKernelReplacement(KERNEL_NAME, oneHotWasm as unknown as tf.KernelFunc);

/** The kernel, for `tf.registerKernel` (registered that way it keeps no original to fall back to). */
export const wasmOneHotConfig: tf.KernelConfig = replacement.config;
/**
 * Replaces tfjs-backend-wasm's `OneHot` with ours, keeping the original and its setup
 * (`replaceWasmKernel`). Idempotent; a no-op until tfjs-backend-wasm is imported.
 * @returns true if this call registered it.
 */
export const registerWasmOneHot = replacement.register;
/** The kernel ours replaced (tfjs-backend-wasm's), once registered; for tests. */
export const originalWasmOneHot = replacement.original;
