/**
 * ActiveLab's wasm `Conv2DBackpropInput` (src/backend/wasm-conv2d-backprop-input.ts) against
 * the cpu backend's gradient of `tf.conv2d` w.r.t. its input. Runs in Node and in Chromium.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../../src/backend/index.ts';
import {
  conv2DBackpropInputTuning,
  originalWasmConv2DBackpropInput,
  planConv2DBackpropInput,
  registerWasmConv2DBackpropInput,
  wasmConv2DBackpropInputConfig,
  type Conv2DBackpropInputAttrs,
} from '../../src/backend/wasm-conv2d-backprop-input.ts';
import { SHARED_CONV_CASES as SHARED, type ConvCase } from '../support/conv-cases.ts';
import { seededValues, size } from '../support/seeded.ts';
import {
  barsTask, cpuReferencesThenWasm, expectClose, expectNoLeakOverRepeats, expectOneNewTensorAndBuffer,
  expectReplacesWasmKernel, expectSameLossCurve, glorot, kernelsOfATrainingStep, leakCounts, runOriginalKernel,
  trainBars, trainOnWasm, type GradCase, type Shape4, type TrainRun
} from '../support/wasm-kernel-harness.ts';

interface Case extends ConvCase {
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const CASES: Case[] = [
  SHARED.validStride1,
  SHARED.sameStride1,
  SHARED.sameStride1EvenFilter,
  SHARED.validStride2EvenSize,
  { name: 'valid, stride 2, odd size, non-square filter', x: [2, 9, 7, 2], filter: [3, 2, 2, 3], strides: 2, pad: 'valid' },
  SHARED.sameStride2EvenFilterHeight,
  { name: 'same, stride 2, even size, filter = 2 x stride', x: [4, 8, 6, 2], filter: [4, 4, 2, 3], strides: 2, pad: 'same' },
  SHARED.validStrides21,
  { name: 'same, strides [1, 2]', x: [2, 6, 9, 3], filter: [3, 3, 3, 2], strides: [1, 2], pad: 'same' },
  { name: 'same, stride 3 > 1x1 filter (phases without taps)', x: [2, 9, 10, 2], filter: [1, 1, 2, 3], strides: 3, pad: 'same' },
  SHARED.explicitPadsStrides21,
  {
    name: 'explicit pads larger than the filter (dy cropped), stride 1',
    x: [2, 5, 6, 2],
    filter: [2, 3, 2, 3],
    strides: 1,
    pad: [[0, 0], [4, 3], [3, 5], [0, 0]],
  },
  {
    name: 'explicit pads larger than the filter (dy cropped), stride 2',
    x: [2, 5, 6, 2],
    filter: [2, 3, 2, 3],
    strides: 2,
    pad: [[0, 0], [5, 4], [4, 6], [0, 0]],
  },
  SHARED.numericPad1Stride2,
  { name: "numeric pad 1, stride 2, dimRoundingMode 'round'", x: [2, 7, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 1, dimRoundingMode: 'round' },
  {
    name: 'only phases without taps reach dx (dx = 0)',
    x: [1, 1, 1, 2],
    filter: [1, 1, 2, 3],
    strides: 3,
    pad: [[0, 0], [1, 1], [1, 1], [0, 0]],
  },
  SHARED.batch1Cin1Cout1,
  { name: 'Gal CNN first layer shape (28x28x1, 4x4, 32 filters)', x: [3, 28, 28, 1], filter: [4, 4, 1, 32], strides: 1, pad: 'valid' },
  { name: 'Gal CNN second layer shape (25x25x32, 4x4, 32 filters)', x: [2, 25, 25, 32], filter: [4, 4, 32, 32], strides: 1, pad: 'valid' },
  { name: 'stride 1, same, filter larger than the image', x: [2, 3, 4, 2], filter: [5, 5, 2, 3], strides: 1, pad: 'same' },
  { name: 'stride 1, explicit asymmetric pads, Cin 5', x: [2, 6, 7, 5], filter: [3, 4, 5, 2], strides: 1, pad: [[0, 0], [2, 0], [0, 3], [0, 0]] },
  { name: 'stride 1, valid, filter as tall as the image', x: [3, 4, 6, 2], filter: [4, 2, 2, 3], strides: 1, pad: 'valid' },
];

/** The stride-1 border split (see conv2DBackpropInputTuning), forced on and off on every case. */
const SPLITS = ['always', 'never'] as const;
async function withSplit<T>(split: (typeof SPLITS)[number], f: () => Promise<T>): Promise<T> {
  const saved = conv2DBackpropInputTuning.split;
  conv2DBackpropInputTuning.split = split;
  try {
    return await f();
  } finally {
    conv2DBackpropInputTuning.split = saved;
  }
}


/** A case with its seeded w and dy; expected: cpu: d/dx sum(conv2d(x, w) * dy), i.e. Conv2DBackpropInput(dy, w). */
interface Prepared extends GradCase<Case> {
  w: Float32Array;
}

const attrsOf = (c: Case): Conv2DBackpropInputAttrs => ({
  strides: c.strides,
  pad: c.pad,
  dataFormat: 'NHWC',
  inputShape: c.x,
  ...(c.dimRoundingMode ? { dimRoundingMode: c.dimRoundingMode } : {}),
});

/** Gradient of sum(conv2d(x, w) * dy) w.r.t. x on the active backend, read back. */
async function inputGrad(c: Case, w: Float32Array, dy: Float32Array, dyShape: Shape4): Promise<Float32Array> {
  const g = tf.tidy(() => {
    const wT = tf.tensor4d(w, c.filter);
    const dyT = tf.tensor4d(dy, dyShape);
    const x = tf.tensor4d(seededValues(size(c.x), 3), c.x);
    return tf.grad((v: tf.Tensor) =>
      tf.conv2d(v as tf.Tensor4D, wT, c.strides, c.pad, 'NHWC', 1, c.dimRoundingMode).mul(dyT).sum(),
    )(x);
  });
  expect(g.shape).toEqual(c.x);
  const values = (await g.data()) as Float32Array;
  g.dispose();
  return values;
}

/** The kernel called directly (through the engine) on the active backend. */
function runKernel(dy: tf.Tensor, filter: tf.Tensor, attrs: Conv2DBackpropInputAttrs): tf.Tensor {
  return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** A configuration the fast path hands to tfjs's kernel: NCHW (x [B,C,H,W]). */
const NCHW = {
  x: [2, 3, 7, 6] as Shape4,
  filter: [3, 2, 3, 4] as Shape4,
  dyShape: [2, 4, 3, 5] as Shape4, // stride [2, 1], valid: (7 - 3) / 2 + 1 = 3, 6 - 2 + 1 = 5
  attrs: { strides: [2, 1], pad: 'valid', dataFormat: 'NCHW', inputShape: [2, 3, 7, 6] } as Conv2DBackpropInputAttrs,
};

/**
 * Another: tfjs's Conv2D gradient does not pass dimRoundingMode on, so with 'ceil' it sends a dy
 * one row taller than the attrs imply (H: (8 - 3 + 2) / 2 + 1 = 4.5 -> 5, but 4 without 'ceil').
 */
const CEIL_GRAD: Case = { name: "tf.grad with dimRoundingMode 'ceil'", x: [2, 8, 7, 2], filter: [3, 3, 2, 3], strides: 2, pad: 1, dimRoundingMode: 'ceil' };

/** The same geometry called as a kernel with consistent attrs: the fast path, last dy row unused. */
const CEIL_DIRECT = {
  dyShape: [2, 5, 4, 3] as Shape4,
  attrs: { strides: 2, pad: 1, dataFormat: 'NHWC', dimRoundingMode: 'ceil', inputShape: [2, 8, 7, 2] } as Conv2DBackpropInputAttrs,
};

/**
 * conv2d 6@3x3 relu -> conv2d 8@3x3 stride 2 same relu -> flatten -> dense 2 softmax, seeded, on
 * 64 noisy 10x10 bars images; trained with `fit` for 8 epochs. The second conv's input gradient
 * is a Conv2DBackpropInput.
 */
const barsModel = () =>
  barsTask({ side: 10, noiseSeed: 7, posSeed: 8 }, (side) => [
    tf.layers.conv2d({ inputShape: [side, side, 1], filters: 6, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(11) }),
    tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: glorot(12) }),
    tf.layers.flatten(),
    tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: glorot(13) }),
  ]);
const trainBarsTask = () => trainBars(barsModel(), 8);

describe('wasm Conv2DBackpropInput', () => {
  const prepared: Prepared[] = [];
  let cpuRun: TrainRun | undefined;
  let cpuNchw: Float32Array | undefined;
  let cpuCeilGrad: Float32Array | undefined;
  let cpuCeilDirect: Float32Array | undefined;
  const nchwDy = seededValues(size(NCHW.dyShape), 301);
  const nchwW = seededValues(size(NCHW.filter), 302);
  const ceilDy = seededValues(size(CEIL_DIRECT.dyShape), 303);
  const ceilW = seededValues(size(CEIL_GRAD.filter), 304);

  cpuReferencesThenWasm(async () => {
    for (const [i, c] of CASES.entries()) {
      const w = seededValues(size(c.filter), 100 + i);
      const outShape = tf.tidy(
        () =>
          tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad, 'NHWC', 1, c.dimRoundingMode)
            .shape,
      );
      const dy = seededValues(size(outShape), 200 + i);
      const expected = await inputGrad(c, w, dy, outShape);
      prepared.push({ c, w, dy, dyShape: outShape, expected });
    }
    const nchw = tf.tidy(() => runKernel(tf.tensor4d(nchwDy, NCHW.dyShape), tf.tensor4d(nchwW, NCHW.filter), NCHW.attrs));
    cpuNchw = (await nchw.data()) as Float32Array;
    nchw.dispose();
    cpuCeilGrad = await inputGrad(CEIL_GRAD, ceilW, ceilDy, CEIL_DIRECT.dyShape);
    const ceil = tf.tidy(() => runKernel(tf.tensor4d(ceilDy, CEIL_DIRECT.dyShape), tf.tensor4d(ceilW, CEIL_GRAD.filter), CEIL_DIRECT.attrs));
    cpuCeilDirect = (await ceil.data()) as Float32Array;
    ceil.dispose();
    cpuRun = await trainBarsTask();
  });

  it('replaces tfjs-backend-wasm\'s kernel, and registering again is a no-op (never wraps twice)', () => {
    expectReplacesWasmKernel({
      config: wasmConv2DBackpropInputConfig,
      original: originalWasmConv2DBackpropInput,
      register: registerWasmConv2DBackpropInput,
    });
  });

  it("plans the fast path for every NHWC case, and the fallback for NCHW and tfjs's 'ceil' gradient", () => {
    for (const p of prepared) {
      const plan = planConv2DBackpropInput({ shape: p.dyShape, dtype: 'float32' }, { shape: p.c.filter, dtype: 'float32' }, attrsOf(p.c));
      expect(plan.fast, p.c.name).toBe(true);
    }
    const nchw = planConv2DBackpropInput({ shape: NCHW.dyShape, dtype: 'float32' }, { shape: NCHW.filter, dtype: 'float32' }, NCHW.attrs);
    expect(nchw).toEqual({ fast: false, reason: "dataFormat 'NCHW'" });
    const ceilGrad = planConv2DBackpropInput({ shape: CEIL_DIRECT.dyShape, dtype: 'float32' }, { shape: CEIL_GRAD.filter, dtype: 'float32' }, {
      ...attrsOf(CEIL_GRAD),
      dimRoundingMode: undefined,
    });
    expect(ceilGrad).toEqual({ fast: false, reason: 'dy [2,5,4,3] does not match the output [2,4,4,3] the attrs imply' });
    const ceilDirect = planConv2DBackpropInput({ shape: CEIL_DIRECT.dyShape, dtype: 'float32' }, { shape: CEIL_GRAD.filter, dtype: 'float32' }, CEIL_DIRECT.attrs);
    expect(ceilDirect.fast).toBe(true);
    expect(planConv2DBackpropInput({ shape: [1, 3, 3, 2], dtype: 'int32' }, { shape: [2, 2, 1, 2], dtype: 'float32' }, {
      strides: 1,
      pad: 'valid',
      inputShape: [1, 4, 4, 1],
    }).fast).toBe(false);
  });

  it.each(CASES.map((c, i) => [c.name, i] as const))('tf.grad of conv2d w.r.t. the input equals cpu: %s', async (_name, i) => {
    expect(tf.getBackend()).toBe('wasm');
    const p = prepared[i]!;
    const actual = await inputGrad(p.c, p.w, p.dy, p.dyShape);
    expectClose(actual, p.expected);
  });

  it.each(SPLITS.flatMap((split) => CASES.map((c, i) => [split, c.name, i] as const)))('border split %s: equals cpu: %s', async (split, _name, i) => {
    const p = prepared[i]!;
    await withSplit(split, async () => expectClose(await inputGrad(p.c, p.w, p.dy, p.dyShape), p.expected));
  });

  it.each(SPLITS.map((s) => [s] as const))('border split %s: leaks no tensors and no backend buffers', async (split) => {
    await withSplit(split, async () => {
      for (const p of prepared.filter((q) => q.c.strides === 1 && size(q.c.x) < 5000)) {
        await expectNoLeakOverRepeats(() => inputGrad(p.c, p.w, p.dy, p.dyShape), 1);
      }
    });
  });

  it('agrees with tfjs-backend-wasm\'s own kernel (called directly) on the fast path', async () => {
    for (const p of prepared.filter((q) => q.c.x[0] * q.c.x[1] * q.c.x[2] * q.c.x[3] < 5000)) {
      const dy = tf.tensor4d(p.dy, p.dyShape);
      const w = tf.tensor4d(p.w, p.c.filter);
      const theirs = runOriginalKernel(originalWasmConv2DBackpropInput(), { dy, filter: w }, attrsOf(p.c));
      const ours = runKernel(dy, w, attrsOf(p.c));
      expectClose((await ours.data()) as Float32Array, (await theirs.data()) as Float32Array);
      tf.dispose([dy, w, ours, theirs]);
    }
  });

  it('falls back to the original kernel for NCHW: identical to it, and equal to cpu', async () => {
    const dy = tf.tensor4d(nchwDy, NCHW.dyShape);
    const w = tf.tensor4d(nchwW, NCHW.filter);
    const ours = runKernel(dy, w, NCHW.attrs);
    expect(ours.shape).toEqual(NCHW.x);
    const theirs = runOriginalKernel(originalWasmConv2DBackpropInput(), { dy, filter: w }, NCHW.attrs);
    const oursValues = (await ours.data()) as Float32Array;
    // bit for bit: the same code ran (the fast path sums in another order)
    expect(Array.from(oursValues)).toEqual(Array.from((await theirs.data()) as Float32Array));
    expectClose(oursValues, cpuNchw!);
    tf.dispose([dy, w, ours, theirs]);
  });

  it("falls back for tfjs's own 'ceil' gradient (dy one row taller than the attrs imply), and equals cpu", async () => {
    expectClose(await inputGrad(CEIL_GRAD, ceilW, ceilDy, CEIL_DIRECT.dyShape), cpuCeilGrad!);
  });

  it("takes the fast path for 'ceil' called as a kernel with consistent attrs, and equals cpu", async () => {
    const out = tf.tidy(() => runKernel(tf.tensor4d(ceilDy, CEIL_DIRECT.dyShape), tf.tensor4d(ceilW, CEIL_GRAD.filter), CEIL_DIRECT.attrs));
    expect(out.shape).toEqual(CEIL_GRAD.x);
    expectClose((await out.data()) as Float32Array, cpuCeilDirect!);
    out.dispose();
  });

  describe('leaks no tensors and no backend buffers', () => {
    // Intermediates are backend TensorInfos the engine never sees: leakCounts counts the backend's buffers too.
    const picks: [string, (c: Case) => boolean][] = [
      ['stride 1, valid (conv output returned as is)', (c) => c.strides === 1 && c.pad === 'valid' && c.x[3] > 1],
      ['stride 2, same (phases interleaved, then sliced)', (c) => c.strides === 2 && c.pad === 'same'],
      ['strides [2, 1], explicit pads', (c) => Array.isArray(c.strides) && Array.isArray(c.pad)],
      ['pads larger than the filter (dy cropped)', (c) => Array.isArray(c.pad) && c.strides === 2],
    ];
    it.each(picks)('%s', async (_name, pick) => {
      const p = prepared.find((q) => pick(q.c))!;
      const before = await expectNoLeakOverRepeats(() => inputGrad(p.c, p.w, p.dy, p.dyShape), 3);

      const dy = tf.tensor4d(p.dy, p.dyShape);
      const w = tf.tensor4d(p.w, p.c.filter);
      const g = expectOneNewTensorAndBuffer(() => runKernel(dy, w, attrsOf(p.c)));
      expectClose((await g.data()) as Float32Array, p.expected);
      tf.dispose([g, dy, w]);
      expect(leakCounts()).toEqual(before);
    });

    it('on the fallback path (NCHW)', () => {
      const before = leakCounts();
      for (let k = 0; k < 2; k++) {
        tf.tidy(() => runKernel(tf.tensor4d(nchwDy, NCHW.dyShape), tf.tensor4d(nchwW, NCHW.filter), NCHW.attrs).dataSync());
      }
      expect(leakCounts()).toEqual(before);
    });
  });

  it('is the kernel a training step of a two-conv net runs', async () => {
    expect(await kernelsOfATrainingStep(barsModel())).toContain('Conv2DBackpropInput');
  });

  it('lets a two-conv net train with model.fit on wasm, as it trains on cpu', async () => {
    const run = await trainOnWasm(trainBarsTask);
    // ~ln 2 at the start; at most half of it after 8 epochs, and falling
    expect(run.lossAfter).toBeLessThan(0.5 * run.lossBefore);
    expect(run.losses[run.losses.length - 1]!).toBeLessThan(run.losses[0]!);
    // and the same trajectory as on the cpu backend (finite losses, each epoch within 1e-3)
    expectSameLossCurve(run, cpuRun!);
  });
});
