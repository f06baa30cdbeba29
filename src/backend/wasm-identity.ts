/**
 * A zero-copy `Identity` for the tfjs wasm backend.
 *
 * tfjs-backend-wasm 4.22's `Identity` copies its input into a new buffer. tfjs-core runs
 * `Identity` for every tensor it saves for a gradient while the tape is on (`engine.clone`):
 * in one training step of the Gal et al. CNN that is a copy of each conv/pool activation
 * ([B,25,25,32], [B,22,22,32], [B,11,11,32]) and of each weight. Tensors are immutable, so
 * this kernel shares the input's buffer instead, exactly as tfjs-backend-cpu's and -webgl's do
 * (`backend.incRef(dataId)`; the buffer is freed when its last tensor is disposed) — the same
 * sharing wasm's own `Reshape` already does. XNNPACK operators that tfjs-wasm caches per tensor
 * id stay valid: the shared buffer keeps its id and its (immutable) contents. String tensors go
 * to the original kernel.
 *
 * Measured in Node 20 (wasm, 1 thread, `tf.profile` of one training step, min of 3): the
 * step's Identity kernels took 0.8 ms at batch 32 and ~3 ms at batch 128; now ~0.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { wasmKernelReplacement } from './wasm-kernel-util.ts';

const KERNEL_NAME = 'Identity';

function identityWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] {
  const original = replacement.original();
  const backend = args.backend as BackendWasm;
  const { x } = args.inputs;
  if (x === undefined || x.dtype === 'string') {
    if (original === undefined) throw new Error(`wasm ${KERNEL_NAME}: no original kernel registered to fall back to`);
    return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  }
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const replacement = wasmKernelReplacement(KERNEL_NAME, identityWasm as unknown as tf.KernelFunc);

/** The kernel, for `tf.registerKernel` (registered that way it keeps no original to fall back to). */
export const wasmIdentityConfig: tf.KernelConfig = replacement.config;
/**
 * Replaces tfjs-backend-wasm's `Identity` with ours, keeping the original and its setup
 * (`replaceWasmKernel`). Idempotent; a no-op until tfjs-backend-wasm is imported.
 * @returns true if this call registered it.
 */
export const registerWasmIdentity = replacement.register;
/** The kernel ours replaced (tfjs-backend-wasm's), once registered; for tests and benchmarks. */
export const originalWasmIdentity = replacement.original;
