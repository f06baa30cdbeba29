/**
 * ActiveLab's wasm `Conv2DBackpropInput` (src/backend/wasm-conv2d-backprop-input.ts) against
 * the cpu backend's gradient of `tf.conv2d` w.r.t. its input. Runs in Node and in Chromium.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/backend/index.ts';
import {
  conv2DBackpropInputTuning,
  originalWasmConv2DBackpropInput,
  planConv2DBackpropInput,
  registerWasmConv2DBackpropInput,
  wasmConv2DBackpropInputConfig,
  type Conv2DBackpropInputAttrs,
} from '../../src/backend/wasm-conv2d-backprop-input.ts';
import { registerWasmKernels } from '../../src/backend/wasm-kernels.ts';
import { onBackend } from '../support/backends.ts';
import { seededValues, size } from '../support/seeded.ts';

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];
type Shape4 = [number, number, number, number];

interface Case {
  name: string;
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const CASES: Case[] = [
  { name: 'valid, stride 1, odd x even, non-square filter', x: [2, 7, 8, 3], filter: [3, 2, 3, 4], strides: 1, pad: 'valid' },
  { name: 'same, stride 1, odd size', x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { name: 'same, stride 1, even filter (asymmetric pads)', x: [2, 6, 8, 2], filter: [2, 4, 2, 3], strides: 1, pad: 'same' },
  { name: 'valid, stride 2, even size (last row unread)', x: [3, 8, 8, 2], filter: [3, 3, 2, 5], strides: 2, pad: 'valid' },
  { name: 'valid, stride 2, odd size, non-square filter', x: [2, 9, 7, 2], filter: [3, 2, 2, 3], strides: 2, pad: 'valid' },
  { name: 'same, stride 2, odd size, even filter height', x: [2, 7, 9, 3], filter: [2, 3, 3, 4], strides: 2, pad: 'same' },
  { name: 'same, stride 2, even size, filter = 2 x stride', x: [4, 8, 6, 2], filter: [4, 4, 2, 3], strides: 2, pad: 'same' },
  { name: 'valid, strides [2, 1]', x: [2, 9, 6, 2], filter: [3, 2, 2, 3], strides: [2, 1], pad: 'valid' },
  { name: 'same, strides [1, 2]', x: [2, 6, 9, 3], filter: [3, 3, 3, 2], strides: [1, 2], pad: 'same' },
  { name: 'same, stride 3 > 1x1 filter (phases without taps)', x: [2, 9, 10, 2], filter: [1, 1, 2, 3], strides: 3, pad: 'same' },
  {
    name: 'explicit pads, strides [2, 1]',
    x: [2, 7, 8, 3],
    filter: [3, 2, 3, 4],
    strides: [2, 1],
    pad: [[0, 0], [1, 2], [0, 1], [0, 0]],
  },
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
  { name: 'numeric pad 1, stride 2', x: [2, 7, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 1 },
  { name: "numeric pad 1, stride 2, dimRoundingMode 'round'", x: [2, 7, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 1, dimRoundingMode: 'round' },
  {
    name: 'only phases without taps reach dx (dx = 0)',
    x: [1, 1, 1, 2],
    filter: [1, 1, 2, 3],
    strides: 3,
    pad: [[0, 0], [1, 1], [1, 1], [0, 0]],
  },
  { name: 'batch 1, Cin 1, Cout 1', x: [1, 5, 5, 1], filter: [2, 2, 1, 1], strides: 1, pad: 'valid' },
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


interface Prepared {
  c: Case;
  w: Float32Array;
  dy: Float32Array;
  dyShape: Shape4;
  /** cpu: d/dx sum(conv2d(x, w) * dy), i.e. Conv2DBackpropInput(dy, w). */
  expected: Float32Array;
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

function expectClose(actual: Float32Array, expected: Float32Array, relTol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1;
  let maxDiff = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    maxDiff = Math.max(maxDiff, Math.abs(actual[i]! - expected[i]!));
  }
  expect(maxDiff / scale).toBeLessThanOrEqual(relTol);
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

interface TrainRun {
  lossBefore: number;
  lossAfter: number;
  losses: number[];
}

/**
 * conv2d 6@3x3 relu -> conv2d 8@3x3 stride 2 same relu -> flatten -> dense 2 softmax, seeded,
 * trained with `fit` for 8 epochs (shuffle off) on 64 noisy 10x10 images of a horizontal
 * (class 0) or vertical bar. The second conv's input gradient is a Conv2DBackpropInput.
 */
function barsModel(): { model: tf.Sequential; xs: tf.Tensor4D; ys: tf.Tensor2D } {
  const n = 64;
  const side = 10;
  const noise = seededValues(n * side * side, 7);
  const pos = seededValues(n, 8);
  const images = new Float32Array(n * side * side);
  const labels = new Float32Array(n * 2);
  for (let s = 0; s < n; s++) {
    const cls = s % 2;
    const at = 1 + Math.floor(((pos[s]! + 1) / 2) * (side - 2));
    for (let r = 0; r < side; r++) {
      for (let c = 0; c < side; c++) {
        const i = (s * side + r) * side + c;
        images[i] = ((cls === 0 ? r === at : c === at) ? 1 : 0) + 0.3 * noise[i]!;
      }
    }
    labels[s * 2 + cls] = 1;
  }
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [side, side, 1],
        filters: 6,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }),
      }),
      tf.layers.conv2d({
        filters: 8,
        kernelSize: 3,
        strides: 2,
        padding: 'same',
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 13 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  return { model, xs: tf.tensor4d(images, [n, side, side, 1]), ys: tf.tensor2d(labels, [n, 2]) };
}

async function trainBarsTask(): Promise<TrainRun> {
  const { model, xs, ys } = barsModel();
  const evaluate = () => tf.tidy(() => (model.evaluate(xs, ys, { batchSize: 32 }) as tf.Scalar).dataSync()[0]!);
  const lossBefore = evaluate();
  const history = await model.fit(xs, ys, { epochs: 8, batchSize: 16, shuffle: false, verbose: 0 });
  const lossAfter = evaluate();
  tf.dispose([xs, ys]);
  model.dispose();
  return { lossBefore, lossAfter, losses: history.history.loss as number[] };
}

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

  // cpu references first (registered before onBackend, so it runs before the switch to wasm).
  beforeAll(async () => {
    await tf.setBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
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
  onBackend('wasm');

  it('replaces tfjs-backend-wasm\'s kernel, and registering again is a no-op (never wraps twice)', () => {
    const registered = tf.getKernel('Conv2DBackpropInput', 'wasm');
    expect(registered?.kernelFunc).toBe(wasmConv2DBackpropInputConfig.kernelFunc);
    const original = originalWasmConv2DBackpropInput();
    expect(original).toBeDefined();
    expect(original!.kernelFunc).not.toBe(wasmConv2DBackpropInputConfig.kernelFunc);
    // it kept the original's setup (the original's wasm binding must still be initialised)
    expect(registered?.setupFunc).toBe(original!.setupFunc);

    expect(registerWasmConv2DBackpropInput()).toBe(false);
    expect(() => registerWasmKernels()).not.toThrow();
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc).toBe(wasmConv2DBackpropInputConfig.kernelFunc);
    expect(originalWasmConv2DBackpropInput()).toBe(original);
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
      const counts = () => ({ ...tf.memory(), buffers: tf.backend().numDataIds() });
      for (const p of prepared.filter((q) => q.c.strides === 1 && size(q.c.x) < 5000)) {
        await inputGrad(p.c, p.w, p.dy, p.dyShape); // warm-up
        const before = counts();
        await inputGrad(p.c, p.w, p.dy, p.dyShape);
        expect(counts()).toEqual(before);
      }
    });
  });

  it('agrees with tfjs-backend-wasm\'s own kernel (called directly) on the fast path', async () => {
    const backend = tf.backend();
    for (const p of prepared.filter((q) => q.c.x[0] * q.c.x[1] * q.c.x[2] * q.c.x[3] < 5000)) {
      const dy = tf.tensor4d(p.dy, p.dyShape);
      const w = tf.tensor4d(p.w, p.c.filter);
      const info = originalWasmConv2DBackpropInput()!.kernelFunc({
        inputs: { dy, filter: w },
        backend,
        attrs: attrsOf(p.c) as unknown as tf.NamedAttrMap,
      }) as tf.TensorInfo;
      const theirs = tf.engine().makeTensorFromTensorInfo(info);
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
    const info = originalWasmConv2DBackpropInput()!.kernelFunc({
      inputs: { dy, filter: w },
      backend: tf.backend(),
      attrs: NCHW.attrs as unknown as tf.NamedAttrMap,
    }) as tf.TensorInfo;
    const theirs = tf.engine().makeTensorFromTensorInfo(info);
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
    // Intermediates are backend TensorInfos the engine never sees: count the backend's buffers too.
    const counts = () => ({ ...tf.memory(), buffers: tf.backend().numDataIds() });
    const picks: [string, (c: Case) => boolean][] = [
      ['stride 1, valid (conv output returned as is)', (c) => c.strides === 1 && c.pad === 'valid' && c.x[3] > 1],
      ['stride 2, same (phases interleaved, then sliced)', (c) => c.strides === 2 && c.pad === 'same'],
      ['strides [2, 1], explicit pads', (c) => Array.isArray(c.strides) && Array.isArray(c.pad)],
      ['pads larger than the filter (dy cropped)', (c) => Array.isArray(c.pad) && c.strides === 2],
    ];
    it.each(picks)('%s', async (_name, pick) => {
      const p = prepared.find((q) => pick(q.c))!;
      await inputGrad(p.c, p.w, p.dy, p.dyShape); // warm-up
      const before = counts();
      for (let k = 0; k < 3; k++) await inputGrad(p.c, p.w, p.dy, p.dyShape);
      expect(counts()).toEqual(before);

      const dy = tf.tensor4d(p.dy, p.dyShape);
      const w = tf.tensor4d(p.w, p.c.filter);
      const mid = { tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() };
      const g = runKernel(dy, w, attrsOf(p.c));
      // exactly one new tensor and one new backend buffer: the result
      expect({ tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() }).toEqual({
        tensors: mid.tensors + 1,
        buffers: mid.buffers + 1,
      });
      expectClose((await g.data()) as Float32Array, p.expected);
      tf.dispose([g, dy, w]);
      expect(counts()).toEqual(before);
    });

    it('on the fallback path (NCHW)', () => {
      const before = counts();
      for (let k = 0; k < 2; k++) {
        tf.tidy(() => runKernel(tf.tensor4d(nchwDy, NCHW.dyShape), tf.tensor4d(nchwW, NCHW.filter), NCHW.attrs).dataSync());
      }
      expect(counts()).toEqual(before);
    });
  });

  it('is the kernel a training step of a two-conv net runs', async () => {
    const { model, xs, ys } = barsModel();
    const info = await tf.profile(async () => {
      await model.trainOnBatch(xs, ys);
    });
    expect(info.kernelNames).toContain('Conv2DBackpropInput');
    tf.dispose([xs, ys]);
    model.dispose();
  });

  it('lets a two-conv net train with model.fit on wasm, as it trains on cpu', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const run = await trainBarsTask();
    expect(tf.getBackend()).toBe('wasm');
    expect(run.losses.every(Number.isFinite)).toBe(true);
    // ~ln 2 at the start; at most half of it after 8 epochs, and falling
    expect(run.lossAfter).toBeLessThan(0.5 * run.lossBefore);
    expect(run.losses[run.losses.length - 1]!).toBeLessThan(run.losses[0]!);
    // and the same trajectory as on the cpu backend
    expect(run.lossBefore).toBeCloseTo(cpuRun!.lossBefore, 4);
    for (const [e, loss] of run.losses.entries()) expect(Math.abs(loss - cpuRun!.losses[e]!)).toBeLessThan(1e-3);
  });
});
