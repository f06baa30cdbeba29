/**
 * A correct `MaxPoolGrad` (the input gradient of `maxPool`) for the tfjs wasm backend.
 *
 * tfjs-backend-wasm 4.22 ships one, but it loses gradient: on a random [32,22,22,32] input
 * (2x2 pool, stride 2, 'valid') the gradient of 7,770 of the 123,904 pooling windows never
 * reaches the input, and on [1,22,22,1] 10 of 484 entries disagree with finite differences.
 * The cpu backend and a plain argmax loop agree with each other. This kernel replaces it.
 *
 * ## What it computes (exactly the cpu kernel's semantics)
 *
 * For every output position (b, yR, yC) and channel d, the window is the rows
 * [yR·sh − pt, yR·sh − pt + fh) and columns [yC·sw − pl, yC·sw − pl + fw), clipped to the
 * image (padding never wins), with the geometry of `tf.backend_util.computePool2DInfo`. Its
 * maximum is the FIRST one in row-major window order: a strict `>` against a running max that
 * starts at −∞, as tfjs-backend-cpu's `maxPoolPositions` does. So of tied values the top-left
 * one gets the gradient, a NaN never does, and a window of only −∞/NaN passes none on.
 * `dx[b, r, c, d]` is the sum of `dy[b, yR, yC, d]` over the windows whose first maximum is
 * (r, c) — windows overlap when the stride is smaller than the pool.
 *
 * Sums are accumulated in float32 in row-major window order (the cpu kernel sums in float64
 * and rounds once), so where windows overlap a value can differ from cpu's in the last bit;
 * with stride ≥ pool size every input gets at most one dy and the result is bit-identical.
 *
 * ## How
 *
 * A plain JS loop over wasm memory: inputs are read through `backend.typedArrayFromHeap`, the
 * output is `backend.makeOutput(input.shape, 'float32')`, zero-filled, then scattered into. For
 * each window the channel loop is innermost (NHWC: contiguous reads), with per-channel running
 * max/argmax arrays. The `output` input (the forward result) is not needed. No intermediate
 * buffers are allocated on the backend.
 *
 * The common 2x2, stride 2, unpadded pool whose windows all lie inside the image has its own
 * loop: the windows do not overlap, so each one writes all four of its dx entries (no zero-fill
 * first, no per-window state arrays) with the four comparisons unrolled. For the Gal et al.
 * CNN's pool ([B,22,22,32] after relu), Node 20, interleaved runs under load: ~12 -> ~9.7 ms at
 * batch 128, unchanged (~2.7 ms) at batch 32; the in-step profile went 11.5 -> 7.6 ms and
 * 2.3 -> 1.9 ms. (Channel-outer loops with the running max in locals, and branch-free
 * variants (Math.max then equality), were no faster: the comparisons mispredict on relu data.)
 *
 * Supported: rank-4 NHWC input (the only layout tfjs's maxPool has), any filterSize, strides,
 * pad ('valid' | 'same' | number | explicit) and dimRoundingMode. tfjs's MaxPool gradient drops
 * dimRoundingMode, so with 'ceil'/'round' it sends a dy larger than the attrs imply: like cpu,
 * the attrs' windows are used and the extra dy rows/columns ignored. float32 (or int32) input and dy;
 * the result is float32, like cpu's.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { wasmKernelReplacement } from './wasm-kernel-util.ts';

const KERNEL_NAME = 'MaxPoolGrad';

type Shape4 = [number, number, number, number];
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** The attrs tfjs-core's `maxPoolGrad` op sends (`MaxPoolGradAttrs`). */
export interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | ExplicitPad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function fail(message: string): never {
  throw new Error(`wasm ${KERNEL_NAME}: ${message}`);
}

function maxPoolGradWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { dy, input } = args.inputs;
  if (dy === undefined || input === undefined) fail('inputs dy and input are required');
  const { filterSize, strides, pad, dimRoundingMode } = (args.attrs ?? {}) as unknown as MaxPoolGradAttrs;
  if (input.shape.length !== 4 || dy.shape.length !== 4) {
    fail(`input and dy must be rank 4, got [${input.shape}] and [${dy.shape}]`);
  }
  for (const t of [dy, input]) {
    if (t.dtype !== 'float32' && t.dtype !== 'int32') fail(`dy and input must be float32, got ${dy.dtype} and ${input.dtype}`);
  }
  const info = tf.backend_util.computePool2DInfo(input.shape as Shape4, filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth } = info;
  const fh = info.effectiveFilterHeight;
  const fw = info.effectiveFilterWidth;
  // tfjs's own MaxPool gradient does not pass dimRoundingMode on, so with 'ceil'/'round' dy can
  // be a row/column larger than these attrs imply. The cpu kernel then uses the attrs' windows
  // and reads the top-left part of dy; so do we. A dy smaller than that is an error.
  const dyHeight = dy.shape[1]!;
  const dyWidth = dy.shape[2]!;
  if (dy.shape[0] !== batchSize || dyHeight < outHeight || dyWidth < outWidth || dy.shape[3] !== inChannels) {
    fail(`dy has shape [${dy.shape}], expected [${info.outShape}] for input [${input.shape}]`);
  }

  // makeOutput may grow wasm memory (detaching older views): take the views only afterwards.
  const out = backend.makeOutput([...input.shape], 'float32');
  if (tf.util.sizeFromShape(input.shape) === 0) return out;
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const x = backend.typedArrayFromHeap(input);
  const g = backend.typedArrayFromHeap(dy);
  const padTop = info.padInfo.top;
  const padLeft = info.padInfo.left;
  if (
    fh === 2 && fw === 2 && strideHeight === 2 && strideWidth === 2 && padTop === 0 && padLeft === 0 &&
    2 * outHeight <= inHeight && 2 * outWidth <= inWidth && outHeight > 0 && outWidth > 0 &&
    x instanceof Float32Array && g instanceof Float32Array
  ) {
    // Rows/columns no window covers (odd sizes) get zeros; the windows write all of theirs.
    if (2 * outHeight < inHeight || 2 * outWidth < inWidth) dx.fill(0);
    maxPoolGrad2x2(x, g, dx, batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, dyHeight, dyWidth);
    return out;
  }
  dx.fill(0);
  if (tf.util.sizeFromShape(dy.shape) === 0) return out;

  const C = inChannels;
  const rowStride = inWidth * C;
  const imageStride = inHeight * rowStride;
  const maxVal = new Float64Array(C);
  const maxIdx = new Int32Array(C);
  for (let b = 0; b < batchSize; b++) {
    const image = b * imageStride;
    for (let yR = 0; yR < outHeight; yR++) {
      const rCorner = yR * strideHeight - padTop;
      const rMin = Math.max(0, rCorner);
      const rMax = Math.min(inHeight, rCorner + fh);
      let dyAt = ((b * dyHeight + yR) * dyWidth) * C;
      for (let yC = 0; yC < outWidth; yC++, dyAt += C) {
        const cCorner = yC * strideWidth - padLeft;
        const cMin = Math.max(0, cCorner);
        const cMax = Math.min(inWidth, cCorner + fw);
        maxVal.fill(Number.NEGATIVE_INFINITY);
        maxIdx.fill(-1);
        for (let r = rMin; r < rMax; r++) {
          for (let c = cMin; c < cMax; c++) {
            const at = image + r * rowStride + c * C;
            for (let d = 0; d < C; d++) {
              const v = x[at + d]!;
              // strict: of equal values the first in row-major window order wins (as on cpu)
              if (v > maxVal[d]!) {
                maxVal[d] = v;
                maxIdx[d] = at + d;
              }
            }
          }
        }
        for (let d = 0; d < C; d++) {
          const i = maxIdx[d]!;
          if (i >= 0) dx[i] = dx[i]! + g[dyAt + d]!;
        }
      }
    }
  }
  return out;
}

/**
 * The common 2x2, stride 2, unpadded pool with every window inside the image: windows do not
 * overlap, so each writes all four of its dx entries (the winner gets dy, the others 0) and dx
 * needs no zero-fill first; the comparisons are unrolled with the same strict `>` from −∞.
 */
function maxPoolGrad2x2(
  x: Float32Array,
  g: Float32Array,
  dx: Float32Array,
  batchSize: number,
  inHeight: number,
  inWidth: number,
  C: number,
  outHeight: number,
  outWidth: number,
  dyHeight: number,
  dyWidth: number,
): void {
  const rowStride = inWidth * C;
  for (let b = 0; b < batchSize; b++) {
    for (let yR = 0; yR < outHeight; yR++) {
      let dyAt = (b * dyHeight + yR) * dyWidth * C;
      let p00 = (b * inHeight + 2 * yR) * rowStride;
      for (let yC = 0; yC < outWidth; yC++, dyAt += C, p00 += 2 * C) {
        const p01 = p00 + C;
        const p10 = p00 + rowStride;
        const p11 = p10 + C;
        for (let d = 0; d < C; d++) {
          const v00 = x[p00 + d]!;
          const v01 = x[p01 + d]!;
          const v10 = x[p10 + d]!;
          const v11 = x[p11 + d]!;
          let best = -1;
          let bestVal = Number.NEGATIVE_INFINITY;
          if (v00 > bestVal) {
            bestVal = v00;
            best = 0;
          }
          if (v01 > bestVal) {
            bestVal = v01;
            best = 1;
          }
          if (v10 > bestVal) {
            bestVal = v10;
            best = 2;
          }
          if (v11 > bestVal) best = 3;
          const gv = g[dyAt + d]!;
          dx[p00 + d] = best === 0 ? gv : 0;
          dx[p01 + d] = best === 1 ? gv : 0;
          dx[p10 + d] = best === 2 ? gv : 0;
          dx[p11 + d] = best === 3 ? gv : 0;
        }
      }
    }
  }
}

const replacement = wasmKernelReplacement(KERNEL_NAME, maxPoolGradWasm as unknown as tf.KernelFunc);

/** The kernel, for `tf.registerKernel` (registered that way it keeps no original to fall back to). */
export const wasmMaxPoolGradConfig: tf.KernelConfig = replacement.config;
/**
 * Replaces tfjs-backend-wasm's `MaxPoolGrad` with ours, keeping the original and its setup
 * (`replaceWasmKernel`). Idempotent; a no-op until tfjs-backend-wasm is imported.
 * @returns true if this call registered it.
 */
export const registerWasmMaxPoolGrad = replacement.register;
/** The kernel ours replaced (tfjs-backend-wasm's), once registered; for tests and benchmarks. */
export const originalWasmMaxPoolGrad = replacement.original;
