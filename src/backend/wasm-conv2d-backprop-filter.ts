/**
 * `Conv2DBackpropFilter` for the tfjs wasm backend (tfjs-backend-wasm 4.22 ships none, so
 * `model.fit` of any conv net throws there). Built only from kernels wasm already has:
 * `Transpose`, `Slice`, `Reshape` and the XNNPACK-backed `Conv2D` and `BatchMatMul`.
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
 * ## Chunks of the batch
 *
 * The overhead around that convolution grows faster than the batch: tfjs-wasm builds a new
 * XNNPACK operator for every new filter tensor, i.e. transposes and packs all of dyᵀ (B·outH·
 * outW·Cout floats) on every call, and transposes all of x. For the Gal CNN's second layer at
 * batch 32 that is ~1.8 ms of packing and ~1.1 ms of transposing x next to the 12.9 ms
 * convolution; at batch 128 it was ~21 ms and ~11 ms next to ~63 ms (once the arrays no
 * longer fit in cache). So the batch is split into chunks of at most
 * `conv2DBackpropFilterTuning.chunkElements` (2^19) dy elements (never fewer than 8 images): each
 * chunk is a zero-copy view of x and dy (see `wasmView`) run through the composition above,
 * and the [Cin,fh,fw,Cout] results are summed in JS before the last transpose. Measured in
 * Node (interleaved runs, load ~2): batch 128, 72 -> 64 ms (chunks of 32 and 64 images alike;
 * of 8, 65–67 ms); batch 32 is one chunk (unchanged, ~16 ms; two chunks of 16 were no faster).
 * Also measured and dropped: x transposed as a plain 2-D [B, H·W·Cin] -> [H·W·Cin, B] and
 * convolved as ONE image [H, W·Cin] with width dilation Cin (the output is then directly the
 * tfjs layout): exact, but 18 vs 15.5 ms at batch 32, as XNNPACK's indirection buffer, built
 * per image, becomes 32x larger.
 *
 * ## The GEMM form, for few taps
 *
 * When fh·fw·Cin ≤ min(Cout, 64) (the Gal CNN's first layer: 4x4x1 -> 32), the dyᵀ the
 * convolution packs is much larger than the im2col patch matrix P [N, fh·fw·Cin]
 * (N = B·outH·outW). Then P is built in JS on the wasm heap and dwᵀ [Cout, taps] =
 * dyᵀ [Cout, N] · P is one `BatchMatMul` (XNNPACK packs only P), transposed back. Measured
 * (CPU time, min of interleaved runs, load ~2–3): Gal layer 1 at batch 32, 2.8 -> 2.2 ms; at
 * batch 128, 17.7 -> 13.9 ms. The other orientation, Pᵀ · dy, packs dy and was no faster
 * than the convolution; chunking the GEMM form did not help either.
 *
 * Supported: dataFormat 'NHWC', any strides, pad 'valid' | 'same' | number | explicit
 * `[[0,0],[top,bottom],[left,right],[0,0]]`, dimRoundingMode. Not supported (clear error):
 * 'NCHW', dilations other than 1 (tfjs-core's Conv2D gradient already refuses those), non-float32.
 * If the backend lacks the internals `wasmView` needs (a tfjs other than 4.22), one unchunked
 * convolution is used.
 *
 * Every intermediate is a backend TensorInfo disposed with `backend.disposeData` (views:
 * `releaseWasmView`) before the kernel returns (also on error); the engine never sees them.
 * Disposing the transposed dy (or releasing a view) also releases the XNNPACK operator that
 * wasm's Conv2D / BatchMatMul caches per filter / right-hand tensor.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { canViewWasmMemory, releaseWasmView, runWasmKernel, wasmView } from './wasm-kernel-util.ts';

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

/**
 * Tuning of the two forms (see the doc comment); a mutable object so tests can force either form
 * and chunking on small shapes. Defaults measured on the Gal et al. CNN in Node.
 */
export const conv2DBackpropFilterTuning = {
  /** 'auto': the GEMM form when fh·fw·Cin ≤ min(Cout, 64); 'always' / 'never' force a form. */
  gemm: 'auto' as 'auto' | 'always' | 'never',
  /** Convolution form: at most this many dy elements (B·outH·outW·Cout) per chunk of the batch… */
  chunkElements: 1 << 19,
  /** …but never fewer images than this per chunk (the batch is the conv's input channels). */
  minChunk: 8,
};

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

  const viewable = canViewWasmMemory(backend);
  const taps = filterHeight * filterWidth * inChannels;
  const { gemm } = conv2DBackpropFilterTuning;
  if (viewable && (gemm === 'always' || (gemm === 'auto' && taps <= Math.min(outChannels, 64)))) {
    return filterGradByGemm(backend, x, dy, info);
  }
  // One dilated convolution per chunk of the batch (one chunk if the batch is small).
  const perImage = outHeight * outWidth * outChannels;
  const chunk = viewable
    ? Math.min(batchSize, Math.max(conv2DBackpropFilterTuning.minChunk, Math.floor(conv2DBackpropFilterTuning.chunkElements / perImage)))
    : batchSize;
  if (chunk >= batchSize) {
    const g = filterGradByConv(backend, x, dy, info);
    try {
      // [Cin,fh,fw,Cout] -> [fh,fw,Cin,Cout]: back to the tfjs filter layout.
      return runWasmKernel(backend, 'Transpose', { x: g }, { perm: [1, 2, 0, 3] }, KERNEL_NAME);
    } finally {
      backend.disposeData(g.dataId);
    }
  }
  const xImage = inHeight * inWidth * inChannels;
  let sum: tf.TensorInfo | null = null;
  try {
    for (let b0 = 0; b0 < batchSize; b0 += chunk) {
      const n = Math.min(chunk, batchSize - b0);
      const xPart = wasmView(backend, x, b0 * xImage, [n, inHeight, inWidth, inChannels]);
      const dyPart = wasmView(backend, dy, b0 * perImage, [n, outHeight, outWidth, outChannels]);
      let g: tf.TensorInfo;
      try {
        g = filterGradByConv(backend, xPart, dyPart, { ...info, batchSize: n });
      } finally {
        releaseWasmView(backend, xPart);
        releaseWasmView(backend, dyPart);
      }
      if (sum === null) {
        sum = g;
        continue;
      }
      // Views only now: the conv may have grown (and so detached) wasm memory.
      const acc = backend.typedArrayFromHeap(sum) as Float32Array;
      const part = backend.typedArrayFromHeap(g) as Float32Array;
      for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + part[i]!;
      backend.disposeData(g.dataId);
    }
    return runWasmKernel(backend, 'Transpose', { x: sum! }, { perm: [1, 2, 0, 3] }, KERNEL_NAME);
  } finally {
    if (sum !== null) backend.disposeData(sum.dataId);
  }
}

/**
 * The dilated-convolution composition (see the doc comment) for one batch (chunk): returns G in
 * the layout [Cin,fh,fw,Cout], which the caller transposes (after summing chunks).
 */
function filterGradByConv(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels } = info;
  const { strideHeight, strideWidth, filterHeight, filterWidth } = info;
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
    if (g.shape[1] !== filterHeight || g.shape[2] !== filterWidth) {
      temps.push(g);
      fail(`internal shape error: got [${g.shape}], expected [${inChannels},${filterHeight},${filterWidth},${outChannels}]`);
    }
    return g;
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * The GEMM form for few taps (fh·fw·Cin ≤ min(Cout, 64), e.g. a first layer on grey images):
 * dwᵀ [Cout, taps] = dyᵀ [Cout, N] · P [N, taps], with P the im2col patch matrix (N = B·outH·
 * outW rows, one column per tap (ky, kx, ci), zeros where a tap reads padding) built in JS on
 * the wasm heap ({@link buildPatches}), and dyᵀ one wasm `Transpose` of dy seen as [N, Cout].
 * XNNPACK packs its right operand on every call: here that is P (taps ≤ Cout columns), never
 * the larger dy. (Building P as an XNNPACK convolution of x by an identity filter was no faster.)
 */
function filterGradByGemm(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize, inChannels: C, outHeight, outWidth, outChannels } = info;
  const { filterHeight: fh, filterWidth: fw } = info;
  const taps = fh * fw * C;
  const n = batchSize * outHeight * outWidth;
  const temps: tf.TensorInfo[] = [];
  try {
    const p = backend.makeOutput([1, n, taps], 'float32');
    temps.push(p);
    // Views after makeOutput, which may grow (and so detach) wasm memory.
    buildPatches(backend.typedArrayFromHeap(p) as Float32Array, backend.typedArrayFromHeap(x) as Float32Array, 0, batchSize, info);
    // [N,Cout] -> [Cout,N], then [1,Cout,N] x [1,N,taps] -> [1,Cout,taps]
    const dyT = runWasmKernel(backend, 'Transpose', { x: { ...dy, shape: [1, n, outChannels] } }, { perm: [0, 2, 1] }, KERNEL_NAME);
    temps.push(dyT);
    const g = runWasmKernel(backend, 'BatchMatMul', { a: dyT, b: { ...p, shape: [1, n, taps] } }, { transposeA: false, transposeB: false }, KERNEL_NAME);
    temps.push(g);
    // [Cout,taps] -> [taps,Cout] = [fh,fw,Cin,Cout]
    const dw = runWasmKernel(backend, 'Transpose', { x: { ...g, shape: [outChannels, taps] } }, { perm: [1, 0] }, KERNEL_NAME);
    temps.push(dw);
    return runWasmKernel(backend, 'Reshape', { x: dw }, { shape: [fh, fw, C, outChannels] }, KERNEL_NAME);
  } finally {
    for (const t of temps) backend.disposeData(t.dataId);
  }
}

/**
 * Rows b0·outH·outW … of the patch matrix P: one row per output pixel of images [b0, b0+nb),
 * its fh·fw·Cin taps in (ky, kx, ci) order, zeros where a tap reads padding.
 */
function buildPatches(dst: Float32Array, src: Float32Array, b0: number, nb: number, info: tf.backend_util.Conv2DInfo): void {
  const { inHeight, inWidth, inChannels: C, outHeight, outWidth } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const rowLen = fw * C;
  let at = 0;
  for (let b = b0; b < b0 + nb; b++) {
    for (let i = 0; i < outHeight; i++) {
      const r0 = i * sh - top;
      for (let j = 0; j < outWidth; j++) {
        const c0 = j * sw - left;
        if (r0 >= 0 && r0 + fh <= inHeight && c0 >= 0 && c0 + fw <= inWidth) {
          // the whole window inside the image: fw·C contiguous values per row
          for (let ky = 0; ky < fh; ky++) {
            let s = ((b * inHeight + r0 + ky) * inWidth + c0) * C;
            for (let k = 0; k < rowLen; k++) dst[at++] = src[s++]!;
          }
          continue;
        }
        for (let ky = 0; ky < fh; ky++) {
          const r = r0 + ky;
          for (let kx = 0; kx < fw; kx++) {
            const c = c0 + kx;
            if (r < 0 || r >= inHeight || c < 0 || c >= inWidth) {
              for (let ci = 0; ci < C; ci++) dst[at++] = 0;
              continue;
            }
            let s = ((b * inHeight + r) * inWidth + c) * C;
            for (let ci = 0; ci < C; ci++) dst[at++] = src[s++]!;
          }
        }
      }
    }
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
