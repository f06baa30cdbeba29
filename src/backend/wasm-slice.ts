/**
 * A `Slice` for the tfjs wasm backend that copies only the slice.
 *
 * tfjs-backend-wasm 4.22's `Slice` first reads its *whole* input out of the wasm heap
 * (`backend.readSync(x.dataId)`, a copy), then copies the slice from that copy: one row of a
 * 60,000 x 128 matrix cost ~18 ms (a `gather` of the same row ~1.3 ms). For a contiguous slice
 * (e.g. a block of leading rows, the chunks the diversity strategies pass over) this kernel
 * copies the slice straight from the input's heap memory into the output's. Every other slice
 * (non-contiguous, strings) goes to the original kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { wasmKernelReplacement } from './wasm-kernel-util.ts';

const KERNEL_NAME = 'Slice';

function sliceWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] {
  const original = replacement.original();
  if (original === undefined) throw new Error(`wasm ${KERNEL_NAME}: no original kernel registered to build on`);
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs;
  const { begin, size } = (args.attrs ?? {}) as unknown as { begin: number | number[]; size: number | number[] };
  if (x === undefined || x.dtype === 'string') return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  const [begin_, size_] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
  if (!tf.slice_util.isSliceContinous(x.shape, begin_, size_)) return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  const offset = tf.slice_util.computeFlatOffset(begin_, tf.util.computeStrides(x.shape));
  const out = backend.makeOutput(size_, x.dtype);
  // Views of the heap only after makeOutput, which may grow (and so detach) it.
  const from = backend.typedArrayFromHeap(x);
  backend.typedArrayFromHeap(out).set(from.subarray(offset, offset + tf.util.sizeFromShape(size_)));
  return out;
}

const replacement = wasmKernelReplacement(KERNEL_NAME, sliceWasm as unknown as tf.KernelFunc);

/** The kernel, for `tf.registerKernel` (registered that way it keeps no original to fall back to). */
export const wasmSliceConfig: tf.KernelConfig = replacement.config;
/**
 * Replaces tfjs-backend-wasm's `Slice` with ours, keeping the original
 * (`replaceWasmKernel`). Idempotent; a no-op until tfjs-backend-wasm is imported.
 * @returns true if this call registered it.
 */
export const registerWasmSlice = replacement.register;
/** The kernel ours replaced (tfjs-backend-wasm's), once registered; for tests and benchmarks. */
export const originalWasmSlice = replacement.original;
