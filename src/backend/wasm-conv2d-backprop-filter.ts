/**
 * `Conv2DBackpropFilter` for the tfjs wasm backend (tfjs-backend-wasm 4.22 ships none, so
 * `model.fit` of any conv net throws there). Built only from kernels wasm already has:
 * `Transpose`, `Slice` and the XNNPACK-backed `Conv2D`.
 *
 * ## The maths
 *
 * Forward (NHWC, dilation 1), with pads `pt` (top) and `pl` (left):
 *
 *     y[b, i, j, co] = Σ_{ky, kx, ci} x[b, i·sh + ky − pt, j·sw + kx − pl, ci] · w[ky, kx, ci, co]
 *
 * (x read as 0 outside the image). Hence the filter gradient:
 *
 *     dw[ky, kx, ci, co] = Σ_{b, i, j} x[b, i·sh + ky − pt, j·sw + kx − pl, ci] · dy[b, i, j, co]
 *
 * Swap the roles of the axes: call `ci` the batch, `(ky, kx)` the output pixel, `b` the input
 * channel and `(i, j)` the filter tap. Then the sum above is an ordinary 2-D convolution
 *
 *     X'[ci, r, c, b]     = x[b, r, c, ci]      (x transposed, padded by pt/pl at the top/left)
 *     F'[i, j, b, co]     = dy[b, i, j, co]     (dy transposed: it is the filter now)
 *     G[ci, ky, kx, co]   = Σ_{i, j, b} X'[ci, ky + i·sh, kx + j·sw, b] · F'[i, j, b, co]
 *
 * with stride 1 and the forward strides as **dilations** (tap (i, j) sits i·sh rows down).
 * Padding X' so that it has exactly Hn = (outH − 1)·sh + fh rows (and Wn columns) makes the
 * valid output of this convolution exactly fh × fw, so no slice of the result is needed:
 *
 *   - 'same' / explicit / numeric pads: pad top/left as the forward pass did, and pad the
 *     bottom/right up to Hn/Wn (rows the forward pass never read are never touched);
 *   - when the forward pass never reaches the last rows/columns of x (e.g. 'valid' with
 *     stride 2 on an even size), crop them first, since a pad cannot be negative.
 *
 * Pads are handed to the wasm Conv2D kernel as explicit pads, so X' is never copied to pad it.
 * Finally G [Cin, fh, fw, Cout] is transposed back to the tfjs filter layout [fh, fw, Cin, Cout].
 *
 * Why this composition: measured on the Gal et al. CNN layers in Node (wasm, SIMD, 1 thread),
 * it runs about as fast as the forward Conv2D of the same layer, because it is one XNNPACK
 * convolution. Wrapping wasm's `Conv3DBackpropFilterV2` (depth 1) was 4–40x slower (a scalar
 * loop) and, in 4.22, wrong for strides > 1 (it drops the last output row/column of some taps);
 * per-tap strided slices + `BatchMatMul` were 7–12x slower.
 *
 * Supported: dataFormat 'NHWC', any strides, pad 'valid' | 'same' | number | explicit
 * `[[0,0],[top,bottom],[left,right],[0,0]]`, dimRoundingMode. Not supported (clear error):
 * 'NCHW', dilations other than 1 (tfjs-core's Conv2D gradient already refuses those), non-float32.
 *
 * Every intermediate is a backend TensorInfo disposed with `backend.disposeData` before the
 * kernel returns (also on error); the engine never sees them. Disposing the transposed dy also
 * releases the XNNPACK operator that wasm's Conv2D caches per filter tensor.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { runWasmKernel } from './wasm-kernel-util.ts';

const KERNEL_NAME = 'Conv2DBackpropFilter';
const BACKEND_NAME = 'wasm';

type Shape4 = [number, number, number, number];
type ExplicitPad = [[number, number], [number, number], [number, number], [number, number]];

/** The attrs tfjs-core's `conv2DBackpropFilter` op sends (`Conv2DBackpropFilterAttrs`). */
interface Attrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | ExplicitPad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: Shape4;
  /** Not part of tfjs's attrs; honoured if a caller passes it anyway. */
  dilations?: number | [number, number];
}

function fail(message: string): never {
  throw new Error(`wasm ${KERNEL_NAME}: ${message}`);
}


function conv2DBackpropFilterWasm(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const backend = args.backend as BackendWasm;
  const { x, dy } = args.inputs;
  if (x === undefined || dy === undefined) fail('inputs x and dy are required');
  const { strides, pad, dataFormat = 'NHWC', dimRoundingMode, filterShape, dilations } = (args.attrs ??
    {}) as unknown as Attrs;

  if (dataFormat !== 'NHWC') {
    fail(`dataFormat '${String(dataFormat)}' is not supported; use 'NHWC' (channels last)`);
  }
  if (dilations !== undefined && !tf.backend_util.tupleValuesAreOne(dilations)) {
    fail(`dilations ${JSON.stringify(dilations)} are not supported; only 1`);
  }
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') {
    fail(`x and dy must be float32, got ${x.dtype} and ${dy.dtype}`);
  }
  if (x.shape.length !== 4 || dy.shape.length !== 4 || filterShape?.length !== 4) {
    fail(`x, dy and filterShape must be rank 4, got [${x.shape}], [${dy.shape}], [${filterShape}]`);
  }

  const info = tf.backend_util.computeConv2DInfo(
    x.shape as Shape4,
    filterShape,
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
  if (
    dy.shape[0] !== batchSize ||
    dy.shape[1] !== outHeight ||
    dy.shape[2] !== outWidth ||
    dy.shape[3] !== outChannels
  ) {
    fail(`dy has shape [${dy.shape}], expected [${info.outShape}] for x [${x.shape}] and filter [${filterShape}]`);
  }

  // Rows/columns of (padded) x that the forward pass reads: exactly Hn x Wn.
  const needH = (outHeight - 1) * strideHeight + filterHeight;
  const needW = (outWidth - 1) * strideWidth + filterWidth;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const keepH = Math.min(inHeight, needH - top);
  const keepW = Math.min(inWidth, needW - left);
  const bottom = needH - top - keepH;
  const right = needW - left - keepW;

  const temps: tf.TensorInfo[] = [];
  try {
    let xIn = x;
    if (keepH < inHeight || keepW < inWidth) {
      // [B,H,W,Cin] -> [B,keepH,keepW,Cin]: drop what the forward pass never read.
      xIn = runWasmKernel(backend, 'Slice', { x }, { begin: [0, 0, 0, 0], size: [batchSize, keepH, keepW, inChannels] }, KERNEL_NAME);
      temps.push(xIn);
    }
    // [B,H,W,Cin] -> [Cin,H,W,B]: channels become the batch, the batch becomes the channels.
    const xT = runWasmKernel(backend, 'Transpose', { x: xIn }, { perm: [3, 1, 2, 0] }, KERNEL_NAME);
    temps.push(xT);
    // [B,outH,outW,Cout] -> [outH,outW,B,Cout]: dy is the filter (in = B, out = Cout).
    const dyT = runWasmKernel(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] }, KERNEL_NAME);
    temps.push(dyT);
    const convPad =
      top === 0 && bottom === 0 && left === 0 && right === 0
        ? 'valid'
        : [
            [0, 0],
            [top, bottom],
            [left, right],
            [0, 0],
          ];
    // [Cin,Hn,Wn,B] (*) [outH,outW,B,Cout], stride 1, dilation = forward stride -> [Cin,fh,fw,Cout]
    const g = runWasmKernel(
      backend,
      'Conv2D',
      { x: xT, filter: dyT },
      { strides: [1, 1], pad: convPad, dataFormat: 'NHWC', dilations: [strideHeight, strideWidth] },
      KERNEL_NAME,
    );
    temps.push(g);
    if (g.shape[1] !== filterHeight || g.shape[2] !== filterWidth) {
      fail(`internal shape error: got [${g.shape}], expected [${inChannels},${filterHeight},${filterWidth},${outChannels}]`);
    }
    // [Cin,fh,fw,Cout] -> [fh,fw,Cin,Cout]: back to the tfjs filter layout. Not a temp: returned.
    return runWasmKernel(backend, 'Transpose', { x: g }, { perm: [1, 2, 0, 3] }, KERNEL_NAME);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/** The kernel, for `tf.registerKernel`. */
export const wasmConv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: KERNEL_NAME,
  backendName: BACKEND_NAME,
  kernelFunc: conv2DBackpropFilterWasm as unknown as tf.KernelFunc,
};

/**
 * Register the kernel for wasm unless some `Conv2DBackpropFilter` is already registered there
 * (ours from an earlier call, or a future tfjs's own). Safe to call any number of times.
 *
 * @returns true if this call registered it.
 */
export function registerWasmConv2DBackpropFilter(): boolean {
  if (tf.getKernel(KERNEL_NAME, BACKEND_NAME) !== undefined) return false;
  tf.registerKernel(wasmConv2DBackpropFilterConfig);
  return true;
}
