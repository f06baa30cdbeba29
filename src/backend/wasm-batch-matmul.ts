/**
 * A faster `BatchMatMul` with `transposeA`/`transposeB` for the tfjs wasm backend.
 *
 * tfjs-backend-wasm 4.22's `BatchMatMul` is ~9x slower when a transpose flag is set than when
 * the operand is transposed first (the dense layers' gradient matmuls of the Gal et al. CNN:
 * 48–51 ms at batch 128, against 5–5.6 ms transposed first). This kernel replaces it: when a
 * flag is set it runs wasm's `Transpose` on that operand's last two axes, then calls the
 * ORIGINAL kernel with both flags false, and frees the transposed copies with
 * `backend.disposeData`. With no flags set it calls the original directly, unchanged. Anything
 * the original refuses (non-float32, mismatched inner dims) it still refuses, with its message.
 *
 * Only `BatchMatMul` is affected. `_FusedMatMul` is a separate wasm kernel, left alone: dense
 * layers' forward passes never set a flag (in a training step a dense layer with a non-linear
 * activation runs an unfused `BatchMatMul`, as tfjs does not fuse under a gradient tape, and a
 * linear one `_FusedMatMul`), while their gradients are `BatchMatMul`s with one flag set
 * (dy·Wᵀ and xᵀ·dy) — the slow path this removes. Measured in Node 20 (wasm, loaded machine,
 * medians of interleaved runs): one Gal CNN training step 104 -> 86 ms at batch 32 and
 * 406 -> 324 ms at batch 128; the two gradient matmuls of a 4608->128 dense layer at batch 128
 * (dy·Wᵀ and xᵀ·dy) 207 -> 21 ms.
 *
 * XNNPACK packs the right operand on every call (tfjs-wasm caches the packed operator per b
 * tensor, and a layer's weights are a new tensor after every optimizer step). So a·bᵀ with a
 * small batch M and a wide b [N,K] — dy·Wᵀ of a wide dense layer — is computed as (b·aᵀ)ᵀ
 * when 2·M·K + M·N < 2·N·K (transpose a, pack aᵀ, transpose the [N,M] result back, instead of
 * transposing and packing all of b). Only for batch dims that are all 1. Gal CNN dense
 * 3872->128, dy·Wᵀ ([B,128]·[3872,128]ᵀ), in-step profile: 2.3 -> 0.9 ms at batch 32,
 * 5.7 -> 3.9 ms at batch 128.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runWasmKernel, wasmKernelReplacement } from './wasm-kernel-util.ts';

const KERNEL_NAME = 'BatchMatMul';

/** The attrs tfjs-core's `matMul` op sends (`BatchMatMulAttrs`). */
export interface BatchMatMulAttrs {
  transposeA: boolean;
  transposeB: boolean;
}

function fail(message: string): never {
  throw new Error(`wasm ${KERNEL_NAME}: ${message}`);
}

/** The permutation swapping the last two axes of a rank-r tensor. */
function swapLastTwo(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  perm[rank - 2] = rank - 1;
  perm[rank - 1] = rank - 2;
  return perm;
}

function batchMatMulWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo | tf.TensorInfo[] {
  const original = replacement.original();
  if (original === undefined) fail('no original kernel registered to build on');
  const backend = args.backend as BackendWasm;
  const { a, b } = args.inputs;
  const { transposeA = false, transposeB = false } = (args.attrs ?? {}) as unknown as Partial<BatchMatMulAttrs>;
  if ((!transposeA && !transposeB) || a === undefined || b === undefined || a.shape.length < 2 || b.shape.length < 2) {
    return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  }
  const temps: tf.TensorInfo[] = [];
  try {
    const rank = a.shape.length;
    if (transposeB && !transposeA && b.shape.length === rank && a.shape.slice(0, -2).every((d) => d === 1) && b.shape.slice(0, -2).every((d) => d === 1)) {
      // a [M,K] · bᵀ (b [N,K]) = (b · aᵀ)ᵀ. Either way XNNPACK packs its right operand per call:
      // transposing and packing b costs ~2·N·K, this ~2·M·K + M·N (transposing a, packing aᵀ,
      // transposing the result back) — far less for a small batch M against a wide layer N.
      const M = a.shape[rank - 2]!;
      const K = a.shape[rank - 1]!;
      const N = b.shape[rank - 2]!;
      if (b.shape[rank - 1] === K && 2 * M * K + M * N < 2 * N * K) {
        const aT = runWasmKernel(backend, 'Transpose', { x: a }, { perm: swapLastTwo(rank) }, KERNEL_NAME);
        temps.push(aT);
        const attrs: tf.NamedAttrMap = { ...(args.attrs ?? {}), transposeA: false, transposeB: false };
        const r = original.kernelFunc({ inputs: { a: b, b: aT }, backend: args.backend, attrs } as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
        temps.push(r);
        return runWasmKernel(backend, 'Transpose', { x: r }, { perm: swapLastTwo(r.shape.length) }, KERNEL_NAME);
      }
    }
    let aIn = a;
    if (transposeA) {
      aIn = runWasmKernel(backend, 'Transpose', { x: a }, { perm: swapLastTwo(a.shape.length) }, KERNEL_NAME);
      temps.push(aIn);
    }
    let bIn = b;
    if (transposeB) {
      bIn = runWasmKernel(backend, 'Transpose', { x: b }, { perm: swapLastTwo(b.shape.length) }, KERNEL_NAME);
      temps.push(bIn);
    }
    const attrs: tf.NamedAttrMap = { ...(args.attrs ?? {}), transposeA: false, transposeB: false };
    return original.kernelFunc({ inputs: { a: aIn, b: bIn }, backend: args.backend, attrs } as Parameters<tf.KernelFunc>[0]);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

const replacement = wasmKernelReplacement(KERNEL_NAME, batchMatMulWasm as unknown as tf.KernelFunc);

/** The kernel, for `tf.registerKernel` (registered that way it keeps no original to fall back to). */
export const wasmBatchMatMulConfig: tf.KernelConfig = replacement.config;
/**
 * Replaces tfjs-backend-wasm's `BatchMatMul` with ours, keeping the original and its setup
 * (`replaceWasmKernel`). Idempotent; a no-op until tfjs-backend-wasm is imported.
 * @returns true if this call registered it.
 */
export const registerWasmBatchMatMul = replacement.register;
/** The kernel ours replaced (tfjs-backend-wasm's), once registered; for tests and benchmarks. */
export const originalWasmBatchMatMul = replacement.original;
