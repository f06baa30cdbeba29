/**
 * A faster `Conv2DBackpropInput` (the input gradient of `conv2d`, also `conv2dTranspose`) for
 * the tfjs wasm backend. tfjs-backend-wasm 4.22 ships one, but it is a scalar loop: on the
 * Gal et al. MNIST CNN it took ~75% of a training step (10–15x the forward Conv2D). This one
 * replaces it, keeping the original as the fallback, and is built only from kernels wasm
 * already has: `PadV2`, `Reshape`, `Transpose`, `Reverse`, `Slice` and the XNNPACK `Conv2D`.
 *
 * ## The maths
 *
 * Forward (NHWC, dilation 1), strides `sh`/`sw`, pads `pt` (top) and `pl` (left):
 *
 *     y[b, i, j, co] = Σ_{ky, kx, ci} x[b, i·sh + ky − pt, j·sw + kx − pl, ci] · w[ky, kx, ci, co]
 *
 * so, with x read as 0 outside the image,
 *
 *     dx[b, r, c, ci] = Σ_{co} Σ_{(i, ky): i·sh + ky = r + pt} Σ_{(j, kx): j·sw + kx = c + pl}
 *                       dy[b, i, j, co] · w[ky, kx, ci, co].
 *
 * Rows (columns are the same with `sw`, `fw`, `pl`, `N`, `v`, `pw`). Write q = r + pt as
 * q = u·sh + ph with phase ph ∈ [0, sh). A tap ky can only meet row u·sh + ph if
 * ky = ph + m·sh (m ≥ 0), and then i = u − m. With M = ⌈fh / sh⌉ taps per phase,
 *
 *     dx(q = u·sh + ph) = Σ_{m=0}^{M−1} dy[u − m] · w[ph + m·sh]      (w = 0 past fh)
 *                       = Σ_{k=0}^{M−1} dy[u − (M−1) + k] · w[ph + (M−1−k)·sh],
 *
 * an ordinary stride-1 convolution (cross-correlation) of dy, padded by M − 1 on top, with
 * the phase-ph sub-filter taken every sh-th tap and flipped. Stacking all sh·sw phases as output
 * channels gives ONE XNNPACK convolution ("sub-pixel" decomposition):
 *
 *     F[k, l, co, (ph, pw, ci)] = w[ph + (M−1−k)·sh, pw + (N−1−l)·sw, ci, co]
 *     Z[b, t, v, (ph, pw, ci)]  = Σ_{k, l, co} dy[b, u0 + t − (M−1) + k, v0 + v − (N−1) + l, co] · F[k, l, co, (ph, pw, ci)]
 *     dx[b, r, c, ci]           = Z[b, t, v, (ph, pw, ci)]   where r + pt = (u0 + t)·sh + ph,
 *                                                                c + pl = (v0 + v)·sw + pw.
 *
 * Its cost equals the forward conv's (every multiply is by a real tap, up to the zero taps
 * when sh ∤ fh), unlike dilating dy with zeros, which costs sh·sw times more. With stride 1
 * it is just "conv of the fully padded dy with the flipped, in/out-swapped filter".
 *
 * ## Shapes and padding
 *
 *     w  [fh,fw,Cin,Cout] -> PadV2 (bottom/right to M·sh x N·sw, only if sh ∤ fh or sw ∤ fw)
 *        -> Reshape [M,sh,N,sw,Cin,Cout] -> Transpose [M,N,Cout,sh,sw,Cin]
 *        -> Reshape [M,N,Cout,sh·sw·Cin] -> Reverse (axes 0, 1)          = F   (stride 1: [fh,fw,Cout,Cin])
 *     dy [B,oH,oW,Cout] -> Slice rows [start,end] (only if some rows can never reach dx)
 *        -> Conv2D with F, stride 1, explicit pads (padTop, padBottom)  -> Z [B,U,V,sh·sw·Cin]
 *        -> Reshape [B·U,V,sh,sw·Cin] -> Transpose [B·U,sh,V,sw·Cin]    (only if sh·sw > 1)
 *        -> Reshape [B,U·sh,V·sw,Cin] -> Slice rows [oh, oh+inH)         = dx [B,inH,inW,Cin]
 *
 * Only the rows q ∈ [pt, pt + inH) are wanted, so u runs over [u0, u1] with u0 = ⌊pt/sh⌋,
 * u1 = ⌊(pt + inH − 1)/sh⌋, U = u1 − u0 + 1, and the result starts at row oh = pt − u0·sh.
 * Output row t reads dy rows [u0 + t − (M−1), u0 + t], so dy is needed on [u0 − (M−1), u1]:
 *
 *     padTop    = (M − 1) − u0 = M − 1 − ⌊pt/sh⌋       (stride 1: fh − 1 − pt)
 *     padBottom = u1 − (oH − 1)                       (stride 1: inH + pt − oH = fh − 1 − pb)
 *
 * A negative pad means those dy rows belong to outputs computed only from padding (explicit
 * pads ≥ the filter, or `dimRoundingMode: 'ceil'`): they never reach dx, so dy is cropped
 * instead. Pads go to the wasm Conv2D as explicit pads, so dy is never copied to pad it.
 *
 * ## Stride 1: the border split
 *
 * With one phase, dx is one stride-1 conv of dy padded by about a filter's size on each side,
 * so the rows and columns of dx near its edges multiply mostly zeros: for the Gal CNN's 4x4
 * 'valid' layer (dy 22x22, dx 25x25) 12 of every 100 tap rows and as many tap columns read
 * padding (625 output pixels x 16 taps computed for 484 x 16 useful products). When an axis
 * wastes ≥ 5% this way (and has ≤ 8 border positions), it is split: the interior positions
 * (window inside dy) come from a conv without padding on that axis, each border position from
 * its own small conv with only the taps that meet dy (copies of those taps and of those dy
 * rows/columns), all copied into place in dx. See {@link borderSplit}. Exact: each output
 * still sums the same products. Measured (Node, CPU time, min of interleaved runs, load ~5):
 * Gal layer 2 at batch 32, 17.0 -> 15.4 ms; at batch 128, 66.8 -> 59.3 ms (rows only: 16.4
 * and 62.5 ms).
 *
 * Fast path: dataFormat 'NHWC', float32, rank-4 inputs, dilation 1 (tfjs's attrs have none),
 * any strides, pad 'valid' | 'same' | number | explicit, any dimRoundingMode. Everything else
 * goes to the original wasm kernel, unchanged: NCHW, non-float32, a `dilations` attr ≠ 1 (which
 * the original ignores), empty tensors, and a dy whose shape is not the output shape the attrs
 * imply — which tfjs's own Conv2D gradient produces with `dimRoundingMode: 'ceil'`/'round', as
 * it does not pass dimRoundingMode on. See {@link planConv2DBackpropInput}.
 *
 * Measured in Node 20 (wasm, SIMD, 1 thread, batch 64, medians; the original in brackets):
 * Gal CNN 2nd layer (25x25x32, 4x4x32x32) 37 ms [320 ms], about the forward conv's 28 ms;
 * 3x3 'same' 32->32 stride 1: 28 ms [270]; stride 2 (32->64): 29 ms [135–210]; strides [2, 1]:
 * 19 ms [137]; 1x1 stride 2: 10 ms [23] (3 of its 4 phases have no taps); Cin = 1 (Gal 1st
 * layer, whose input gradient training never asks for): 11 ms [13]. Dilating dy with zeros and
 * running one stride-1 conv instead was exact too but 2.2x slower than this at 3x3 stride 2.
 * A Gal CNN training step at batch 64 went from ~13.5x to ~5.5x a forward pass.
 *
 * Every intermediate is a backend TensorInfo disposed with `backend.disposeData` before the
 * kernel returns (also on error); the engine never sees them. Disposing F also releases the
 * XNNPACK operator that wasm's Conv2D caches per filter tensor.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runWasmKernel, wasmKernelReplacement } from './wasm-kernel-util.ts';

const KERNEL_NAME = 'Conv2DBackpropInput';

type Shape4 = [number, number, number, number];
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** The attrs tfjs-core's `conv2DBackpropInput` op sends (`Conv2DBackpropInputAttrs`). */
export interface Conv2DBackpropInputAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | ExplicitPad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape: Shape4;
  /** Not part of tfjs's attrs (the original kernel ignores it); ≠ 1 takes the fallback. */
  dilations?: number | [number, number];
}

/** One spatial axis of the fast path (see the doc comment). */
export interface AxisPlan {
  /** Stride s, taps per phase M = ⌈f/s⌉. */
  stride: number;
  taps: number;
  /** dy is used on [start, end] (inclusive), padded by padBefore/padAfter for the conv. */
  start: number;
  end: number;
  padBefore: number;
  padAfter: number;
  /** Conv output length U (per phase) and where dx starts in the interleaved U·s rows. */
  outLength: number;
  offset: number;
}

export type Conv2DBackpropInputPlan =
  | { fast: true; rows: AxisPlan; cols: AxisPlan; info: tf.backend_util.Conv2DInfo }
  | { fast: false; reason: string };

function fail(message: string): never {
  throw new Error(`wasm ${KERNEL_NAME}: ${message}`);
}

function axisPlan(stride: number, filter: number, padBefore: number, inLen: number, outLen: number): AxisPlan | null {
  const taps = Math.ceil(filter / stride);
  const u0 = Math.floor(padBefore / stride);
  const u1 = Math.floor((padBefore + inLen - 1) / stride);
  const start = Math.max(0, u0 - (taps - 1));
  const end = Math.min(outLen - 1, u1);
  if (start > end) return null;
  return {
    stride,
    taps,
    start,
    end,
    padBefore: start - (u0 - (taps - 1)),
    padAfter: u1 - end,
    outLength: u1 - u0 + 1,
    offset: padBefore - u0 * stride,
  };
}

/**
 * What the kernel does for these inputs: the fast composition (with its per-axis geometry),
 * or the reason it hands them to tfjs's original wasm kernel.
 */
export function planConv2DBackpropInput(
  dy: Pick<tf.TensorInfo, 'shape' | 'dtype'>,
  filter: Pick<tf.TensorInfo, 'shape' | 'dtype'>,
  attrs: Conv2DBackpropInputAttrs,
): Conv2DBackpropInputPlan {
  const { strides, pad, dataFormat = 'NHWC', dimRoundingMode, inputShape, dilations } = attrs;
  if (dataFormat !== 'NHWC') return { fast: false, reason: `dataFormat '${String(dataFormat)}'` };
  if (dilations !== undefined && !tf.backend_util.tupleValuesAreOne(dilations)) {
    return { fast: false, reason: `dilations ${JSON.stringify(dilations)}` };
  }
  if (dy.dtype !== 'float32' || filter.dtype !== 'float32') {
    return { fast: false, reason: `dtypes ${dy.dtype} and ${filter.dtype}` };
  }
  if (dy.shape.length !== 4 || filter.shape.length !== 4 || inputShape?.length !== 4) {
    return { fast: false, reason: `ranks of dy [${dy.shape}], filter [${filter.shape}], inputShape [${inputShape}]` };
  }
  if (tf.util.sizeFromShape(dy.shape) === 0 || tf.util.sizeFromShape(filter.shape) === 0 || tf.util.sizeFromShape(inputShape) === 0) {
    return { fast: false, reason: 'empty tensor' };
  }
  const info = tf.backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as Shape4,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  if (
    dy.shape[0] !== info.batchSize ||
    dy.shape[1] !== info.outHeight ||
    dy.shape[2] !== info.outWidth ||
    dy.shape[3] !== info.outChannels
  ) {
    // tfjs's own Conv2D gradient drops dimRoundingMode, so with 'ceil'/'round' dy can have one
    // row more than these attrs imply; the original kernel then reads the top-left part of dy.
    return { fast: false, reason: `dy [${dy.shape}] does not match the output [${info.outShape}] the attrs imply` };
  }
  const rows = axisPlan(info.strideHeight, info.filterHeight, info.padInfo.top, info.inHeight, info.outHeight);
  const cols = axisPlan(info.strideWidth, info.filterWidth, info.padInfo.left, info.inWidth, info.outWidth);
  // Defensive: with u1 ≥ u0 ≥ start this needs oH − 1 < start, which valid conv geometry never gives.
  if (rows === null || cols === null) return { fast: false, reason: 'no element of dy reaches dx' };
  return { fast: true, rows, cols, info };
}


function conv2DBackpropInputWasm(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo | tf.TensorInfo[] {
  const original = replacement.original();
  const backend = args.backend as BackendWasm;
  const { dy, filter } = args.inputs;
  if (dy === undefined || filter === undefined) fail('inputs dy and filter are required');
  const plan = planConv2DBackpropInput(dy, filter, (args.attrs ?? {}) as unknown as Conv2DBackpropInputAttrs);
  if (!plan.fast) {
    if (original === undefined) fail(`no original kernel to fall back to (${plan.reason})`);
    return original.kernelFunc(args as Parameters<tf.KernelFunc>[0]);
  }
  const { rows, cols, info } = plan;
  const { batchSize, inHeight, inWidth, inChannels, outChannels, filterHeight, filterWidth } = info;
  const sh = rows.stride;
  const sw = cols.stride;
  const M = rows.taps;
  const N = cols.taps;
  const phases = sh * sw;

  const temps: tf.TensorInfo[] = [];
  /** A one-input kernel whose output is an intermediate (disposed in `finally`). */
  const run = (kernelName: string, x: tf.TensorInfo, attrs: tf.NamedAttrMap) => {
    const out = runWasmKernel(backend, kernelName, { x }, attrs, KERNEL_NAME);
    temps.push(out);
    return out;
  };
  try {
    // ---- The filter F [M,N,Cout,sh·sw·Cin]: phases as output channels, taps flipped.
    let w = filter;
    if (M * sh > filterHeight || N * sw > filterWidth) {
      // [fh,fw,Cin,Cout] -> [M·sh,N·sw,Cin,Cout]: zero taps so that every phase has M x N.
      const paddings = [[0, M * sh - filterHeight], [0, N * sw - filterWidth], [0, 0], [0, 0]];
      w = run('PadV2', w, { paddings, constantValue: 0 });
    }
    if (phases > 1) {
      // [M·sh,N·sw,Cin,Cout] -> [M,sh,N,sw,Cin,Cout] -> [M,N,Cout,sh,sw,Cin] -> [M,N,Cout,sh·sw·Cin]
      w = run('Reshape', w, { shape: [M, sh, N, sw, inChannels, outChannels] });
      w = run('Transpose', w, { perm: [0, 2, 5, 1, 3, 4] });
      w = run('Reshape', w, { shape: [M, N, outChannels, phases * inChannels] });
    } else {
      // [fh,fw,Cin,Cout] -> [fh,fw,Cout,Cin]: in/out channels swapped.
      w = run('Transpose', w, { perm: [0, 1, 3, 2] });
    }
    // tap k of the conv is tap M−1−k of the phase: flip both spatial axes.
    const f = run('Reverse', w, { dims: [0, 1] });

    // ---- dy [B,oH,oW,Cout], cropped to the rows/columns that reach dx.
    let dyIn = dy;
    if (rows.start > 0 || rows.end < info.outHeight - 1 || cols.start > 0 || cols.end < info.outWidth - 1) {
      dyIn = run('Slice', dy, {
        begin: [0, rows.start, cols.start, 0],
        size: [batchSize, rows.end - rows.start + 1, cols.end - cols.start + 1, outChannels],
      });
    }
    if (phases === 1 && splitAxis(rows, dyIn.shape[1]!)) {
      return borderSplit(backend, dyIn, f, rows, cols, splitAxis(cols, dyIn.shape[2]!), info);
    }
    const noPad = rows.padBefore === 0 && rows.padAfter === 0 && cols.padBefore === 0 && cols.padAfter === 0;
    const convPad = noPad
      ? 'valid'
      : [
          [0, 0],
          [rows.padBefore, rows.padAfter],
          [cols.padBefore, cols.padAfter],
          [0, 0],
        ];
    // [B,oH',oW',Cout] (*) [M,N,Cout,sh·sw·Cin], stride 1 -> Z [B,U,V,sh·sw·Cin]
    let z = runWasmKernel(backend, 'Conv2D', { x: dyIn, filter: f }, { strides: [1, 1], pad: convPad, dataFormat: 'NHWC', dilations: [1, 1] }, KERNEL_NAME);
    const U = rows.outLength;
    const V = cols.outLength;
    if (z.shape[0] !== batchSize || z.shape[1] !== U || z.shape[2] !== V || z.shape[3] !== phases * inChannels) {
      temps.push(z);
      fail(`internal shape error: conv gave [${z.shape}], expected [${batchSize},${U},${V},${phases * inChannels}]`);
    }

    // ---- Interleave the phases: Z -> [B,U·sh,V·sw,Cin].
    if (phases > 1) {
      temps.push(z);
      if (sh > 1) {
        // [B,U,V,(ph,pw,ci)] -> [B·U,V,sh,sw·Cin] -> [B·U,sh,V,sw·Cin]
        z = run('Reshape', z, { shape: [batchSize * U, V, sh, sw * inChannels] });
        z = run('Transpose', z, { perm: [0, 2, 1, 3] });
      }
      // -> [B,U·sh,V·sw,Cin] (a view; with sh = 1 the (pw, ci) channels already sit in column order)
      z = runWasmKernel(backend, 'Reshape', { x: z }, { shape: [batchSize, U * sh, V * sw, inChannels] }, KERNEL_NAME);
    }
    if (rows.offset === 0 && U * sh === inHeight && cols.offset === 0 && V * sw === inWidth) return z;
    // [B,U·sh,V·sw,Cin] -> [B,inH,inW,Cin]: rows q = r + pt start at oh = pt − u0·sh. Returned, not a temp.
    temps.push(z);
    return runWasmKernel(backend, 'Slice', { x: z }, {
      begin: [0, rows.offset, cols.offset, 0],
      size: [batchSize, inHeight, inWidth, inChannels],
    }, KERNEL_NAME);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * Copies `count` runs of `len` floats inside wasm memory (`heap` views all of it; offsets in
 * elements): run k from src + k·srcStride to dst + k·dstStride. Allocates nothing per run
 * (`subarray` + `set` per run cost more than the copying at these sizes).
 */
function copyRuns(heap: Float32Array, src: number, srcStride: number, dst: number, dstStride: number, len: number, count: number): void {
  for (let k = 0; k < count; k++, src += srcStride, dst += dstStride) {
    if (len >= 64) {
      heap.copyWithin(dst, src, src + len);
    } else {
      for (let i = 0; i < len; i++) heap[dst + i] = heap[src + i]!;
    }
  }
}

/** Tuning of the border split (see {@link borderSplit}); mutable so tests can force it on or off. */
export const conv2DBackpropInputTuning = {
  /** 'auto': split an axis when at least `minWaste` of its tap rows/columns would read padding. */
  split: 'auto' as 'auto' | 'always' | 'never',
  minWaste: 0.05,
  /** …and it has at most this many border rows (columns), each a separate small conv. */
  maxBorder: 8,
};

/** Output positions of the stride-1 conv whose whole window lies inside dy's `lenIn` rows. */
function interiorCount(axis: AxisPlan, lenIn: number): number {
  return Math.max(0, Math.min(axis.outLength, lenIn - axis.taps + 1));
}

/** The taps [lo, hi] whose input position t − padBefore + k lies inside dy (empty if lo > hi). */
function tapRange(axis: AxisPlan, lenIn: number, t: number): [number, number] {
  return [Math.max(0, axis.padBefore - t), Math.min(axis.taps - 1, lenIn - 1 - t + axis.padBefore)];
}

/** Whether to split this (stride-1) axis into interior and border positions. */
function splitAxis(axis: AxisPlan, lenIn: number): boolean {
  const { split, minWaste, maxBorder } = conv2DBackpropInputTuning;
  if (split === 'never' || axis.stride !== 1) return false;
  const interior = interiorCount(axis, lenIn);
  const border = axis.outLength - interior;
  if (border === 0 || (interior > 0 && axis.padBefore + interior > axis.outLength)) return false;
  if (split === 'always') return true;
  if (border > maxBorder || interior === 0) return false;
  let wasted = 0;
  for (let t = 0; t < axis.outLength; t++) {
    const [lo, hi] = tapRange(axis, lenIn, t);
    wasted += axis.taps - Math.max(0, hi - lo + 1);
  }
  return wasted >= minWaste * axis.outLength * axis.taps;
}

/**
 * Stride 1 (one phase): dx is one conv of dy padded by about a filter's size, and the rows
 * and columns of dx near its edges read mostly padding (the Gal CNN's 4x4 'valid' layer: 12 of
 * every 100 tap rows, and as many tap columns, are zeros). On a split axis, the output
 * positions whose window lies inside dy (the interior) are computed by a conv without padding
 * on that axis, and each border position by its own conv with only the taps that meet dy (a
 * copy of that part of F, over a copy of just those dy rows/columns). With both axes split:
 * interior rows x interior columns, interior rows x each border column, each border row x all
 * columns (padded). Results are copied into their place in dx.
 */
function borderSplit(
  backend: BackendWasm,
  dyIn: tf.TensorInfo,
  f: tf.TensorInfo,
  rows: AxisPlan,
  cols: AxisPlan,
  splitCols: boolean,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: B, inHeight, inWidth, inChannels } = info;
  const rowsIn = dyIn.shape[1]!;
  const colsIn = dyIn.shape[2]!;
  const cOut = dyIn.shape[3]!;
  const U = rows.outLength;
  const V = cols.outLength;
  if (U !== inHeight || V !== inWidth || rows.offset !== 0 || cols.offset !== 0) {
    fail(`internal error: stride-1 plan [${U},${V}] offset [${rows.offset},${cols.offset}] for dx [${inHeight},${inWidth}]`);
  }
  const dx = backend.makeOutput([B, U, V, inChannels], 'float32');
  const temps: tf.TensorInfo[] = [];
  const free = () => {
    for (const t of temps.splice(0)) backend.disposeData(t.dataId);
  };
  /** A copy of rows [r0, r0+nr) x columns [c0, c0+nc) of every image of x [n, H, W, C]. */
  const window = (x: tf.TensorInfo, r0: number, nr: number, c0: number, nc: number, shape?: number[]) => {
    const [n, H, W, C] = x.shape as [number, number, number, number];
    const out = backend.makeOutput(shape ?? [n, nr, nc, C], 'float32');
    temps.push(out);
    const src = backend.typedArrayFromHeap(x) as Float32Array;
    const dst = backend.typedArrayFromHeap(out) as Float32Array;
    const heap = new Float32Array(src.buffer);
    const run = nc * C;
    for (let b = 0; b < n; b++) {
      copyRuns(heap, src.byteOffset / 4 + ((b * H + r0) * W + c0) * C, W * C, dst.byteOffset / 4 + b * nr * run, run, run, nr);
    }
    return out;
  };
  /** The taps [klo..khi] x [llo..lhi] of F [M, N, Cout, Cin]. */
  const taps = (klo: number, khi: number, llo: number, lhi: number) => {
    const [M, N] = f.shape as [number, number];
    if (klo === 0 && khi === M - 1 && llo === 0 && lhi === N - 1) return f;
    const flat: tf.TensorInfo = { ...f, shape: [1, M, N, cOut * inChannels] };
    return window(flat, klo, khi - klo + 1, llo, lhi - llo + 1, [khi - klo + 1, lhi - llo + 1, cOut, inChannels]);
  };
  /** Conv of x with filter w, stride 1, padding only on columns (cp), placed at dx rows/cols [t0, v0]. */
  const convInto = (x: tf.TensorInfo, w: tf.TensorInfo, cp: [number, number], t0: number, v0: number) => {
    const z = runWasmKernel(backend, 'Conv2D', { x, filter: w }, {
      strides: [1, 1],
      pad: cp[0] === 0 && cp[1] === 0 ? 'valid' : [[0, 0], [0, 0], cp, [0, 0]],
      dataFormat: 'NHWC',
      dilations: [1, 1],
    }, KERNEL_NAME);
    temps.push(z);
    const [, nr, nc] = z.shape as [number, number, number];
    const out = backend.typedArrayFromHeap(dx) as Float32Array;
    const src = backend.typedArrayFromHeap(z) as Float32Array;
    const heap = new Float32Array(src.buffer);
    const run = nc * inChannels;
    for (let b = 0; b < B; b++) {
      copyRuns(heap, src.byteOffset / 4 + b * nr * run, run, out.byteOffset / 4 + ((b * U + t0) * V + v0) * inChannels, V * inChannels, run, nr);
    }
  };
  const zeroRow = (t: number) => {
    const out = backend.typedArrayFromHeap(dx) as Float32Array;
    for (let b = 0; b < B; b++) out.fill(0, (b * U + t) * V * inChannels, (b * U + t + 1) * V * inChannels);
  };
  try {
    const I = interiorCount(rows, rowsIn);
    const colPad: [number, number] = [cols.padBefore, cols.padAfter];
    if (I > 0) {
      if (!splitCols) {
        convInto(dyIn, f, colPad, rows.padBefore, 0);
      } else {
        const J = interiorCount(cols, colsIn);
        if (J > 0) convInto(dyIn, f, [0, 0], rows.padBefore, cols.padBefore);
        for (let v = 0; v < V; v++) {
          if (J > 0 && v >= cols.padBefore && v < cols.padBefore + J) continue;
          const [llo, lhi] = tapRange(cols, colsIn, v);
          if (llo > lhi) {
            const out = backend.typedArrayFromHeap(dx) as Float32Array;
            for (let b = 0; b < B; b++) {
              for (let r = rows.padBefore; r < rows.padBefore + I; r++) {
                const at = ((b * U + r) * V + v) * inChannels;
                out.fill(0, at, at + inChannels);
              }
            }
            continue;
          }
          const x = window(dyIn, 0, rowsIn, v - cols.padBefore + llo, lhi - llo + 1);
          convInto(x, taps(0, rows.taps - 1, llo, lhi), [0, 0], rows.padBefore, v);
          free();
        }
      }
      free();
    }
    for (let t = 0; t < U; t++) {
      if (I > 0 && t >= rows.padBefore && t < rows.padBefore + I) continue;
      const [klo, khi] = tapRange(rows, rowsIn, t);
      if (klo > khi) {
        zeroRow(t);
        continue;
      }
      const x = window(dyIn, t - rows.padBefore + klo, khi - klo + 1, 0, colsIn);
      convInto(x, taps(klo, khi, 0, cols.taps - 1), colPad, t, 0);
      free();
    }
    return dx;
  } catch (err) {
    backend.disposeData(dx.dataId);
    throw err;
  } finally {
    free();
  }
}

const replacement = wasmKernelReplacement(KERNEL_NAME, conv2DBackpropInputWasm as unknown as tf.KernelFunc);

/** The kernel, for `tf.registerKernel` (registered that way it keeps no original to fall back to). */
export const wasmConv2DBackpropInputConfig: tf.KernelConfig = replacement.config;
/**
 * Replaces tfjs-backend-wasm's `Conv2DBackpropInput` with ours, keeping the original and its setup
 * (`replaceWasmKernel`). Idempotent; a no-op until tfjs-backend-wasm is imported.
 * @returns true if this call registered it.
 */
export const registerWasmConv2DBackpropInput = replacement.register;
/** The kernel ours replaced (tfjs-backend-wasm's), once registered; for tests and benchmarks. */
export const originalWasmConv2DBackpropInput = replacement.original;
