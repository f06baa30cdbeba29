/**
 * ActiveLab's wasm `Conv2DBackpropFilter` (src/backend/wasm-conv2d-backprop-filter.ts) against
 * the cpu backend's gradient of `tf.conv2d` w.r.t. the filter. Runs in Node and in Chromium.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/backend/index.ts';
import {
  conv2DBackpropFilterTuning,
  registerWasmConv2DBackpropFilter,
  wasmConv2DBackpropFilterConfig,
} from '../../src/backend/wasm-conv2d-backprop-filter.ts';
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
}

const CASES: Case[] = [
  { name: 'valid, stride 1, odd x even, non-square filter', x: [2, 7, 8, 3], filter: [3, 2, 3, 4], strides: 1, pad: 'valid' },
  { name: 'valid, stride 2, even size (last row unread)', x: [3, 8, 8, 2], filter: [3, 3, 2, 5], strides: 2, pad: 'valid' },
  { name: 'valid, stride 2, odd size', x: [2, 9, 7, 2], filter: [3, 2, 2, 3], strides: 2, pad: 'valid' },
  { name: 'same, stride 1, odd size', x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  { name: 'same, stride 1, even filter (asymmetric pads)', x: [2, 6, 8, 2], filter: [2, 4, 2, 3], strides: 1, pad: 'same' },
  { name: 'same, stride 2, odd size, even filter height', x: [2, 7, 9, 3], filter: [2, 3, 3, 4], strides: 2, pad: 'same' },
  { name: 'same, stride 2, even size', x: [4, 8, 6, 2], filter: [4, 2, 2, 3], strides: 2, pad: 'same' },
  { name: 'valid, strides [2, 1]', x: [2, 9, 6, 2], filter: [3, 2, 2, 3], strides: [2, 1], pad: 'valid' },
  { name: 'same, stride 3 > 1x1 filter', x: [2, 9, 10, 2], filter: [1, 1, 2, 3], strides: 3, pad: 'same' },
  {
    name: 'explicit pads, strides [2, 1]',
    x: [2, 7, 8, 3],
    filter: [3, 2, 3, 4],
    strides: [2, 1],
    pad: [[0, 0], [1, 2], [0, 1], [0, 0]],
  },
  { name: 'numeric pad 1, stride 2', x: [2, 7, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 1 },
  { name: 'batch 1, Cin 1, Cout 1', x: [1, 5, 5, 1], filter: [2, 2, 1, 1], strides: 1, pad: 'valid' },
  { name: 'Gal CNN first layer shape (Cin 1, 4x4, 32 filters)', x: [3, 28, 28, 1], filter: [4, 4, 1, 32], strides: 1, pad: 'valid' },
  { name: 'Gal CNN second layer shape, reduced (8 -> 8 channels)', x: [2, 13, 13, 8], filter: [4, 4, 8, 8], strides: 1, pad: 'valid' },
  { name: 'batch 11 (uneven chunks when forced), same, stride 2', x: [11, 7, 6, 3], filter: [3, 2, 3, 4], strides: 2, pad: 'same' },
  { name: 'Cin 1, explicit pads larger than the filter, stride 2', x: [3, 6, 7, 1], filter: [2, 3, 1, 8], strides: 2, pad: [[0, 0], [3, 0], [1, 4], [0, 0]] },
];

/** The kernel's forms (see conv2DBackpropFilterTuning), each forced in turn on every case. */
const FORMS = {
  auto: { gemm: 'auto', chunkElements: 1 << 19, minChunk: 8 },
  'GEMM forced': { gemm: 'always', chunkElements: 1 << 19, minChunk: 8 },
  'conv forced, chunks of 2 images': { gemm: 'never', chunkElements: 1, minChunk: 2 },
  'conv forced, chunks of 1 image': { gemm: 'never', chunkElements: 1, minChunk: 1 },
} as const;
type Form = keyof typeof FORMS;

function withForm<T>(form: Form, f: () => Promise<T>): Promise<T> {
  const saved = { ...conv2DBackpropFilterTuning };
  Object.assign(conv2DBackpropFilterTuning, FORMS[form]);
  return f().finally(() => Object.assign(conv2DBackpropFilterTuning, saved));
}


interface Prepared {
  c: Case;
  x: Float32Array;
  dy: Float32Array;
  dyShape: Shape4;
  /** cpu: d/dw sum(conv2d(x, w) * dy), i.e. Conv2DBackpropFilter(x, dy). */
  expected: Float32Array;
}

/** Gradient of sum(conv2d(x, w) * dy) w.r.t. w on the active backend, read back. */
async function filterGrad(c: Case, x: Float32Array, dy: Float32Array, dyShape: Shape4): Promise<Float32Array> {
  const g = tf.tidy(() => {
    const xT = tf.tensor4d(x, c.x);
    const dyT = tf.tensor4d(dy, dyShape);
    const w = tf.tensor4d(seededValues(size(c.filter), 3), c.filter);
    return tf.grad((f: tf.Tensor) => tf.conv2d(xT, f as tf.Tensor4D, c.strides, c.pad).mul(dyT).sum())(w);
  });
  const values = (await g.data()) as Float32Array;
  g.dispose();
  return values;
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

interface TrainRun {
  lossBefore: number;
  lossAfter: number;
  losses: number[];
  /** Largest change of any first-layer conv weight during training. */
  kernelMoved: number;
}

/**
 * conv2d 8@3x3 relu -> maxpool 2 -> flatten -> dense 2 softmax, seeded, trained with `fit` for
 * 8 epochs (shuffle off) on 64 noisy 10x10 images of a horizontal (class 0) or vertical bar.
 */
async function trainBarsTask(): Promise<TrainRun> {
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
  const xs = tf.tensor4d(images, [n, side, side, 1]);
  const ys = tf.tensor2d(labels, [n, 2]);
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [side, side, 1],
        filters: 8,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 11 }),
      }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 12 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
  const evaluate = () => tf.tidy(() => (model.evaluate(xs, ys, { batchSize: 32 }) as tf.Scalar).dataSync()[0]!);
  const kernelBefore = await model.layers[0]!.getWeights()[0]!.data();
  const lossBefore = evaluate();
  const history = await model.fit(xs, ys, { epochs: 8, batchSize: 16, shuffle: false, verbose: 0 });
  const lossAfter = evaluate();
  const kernelAfter = await model.layers[0]!.getWeights()[0]!.data();
  let kernelMoved = 0;
  for (let i = 0; i < kernelBefore.length; i++) {
    kernelMoved = Math.max(kernelMoved, Math.abs(kernelAfter[i]! - kernelBefore[i]!));
  }
  tf.dispose([xs, ys]);
  model.dispose();
  return { lossBefore, lossAfter, losses: history.history.loss as number[], kernelMoved };
}

describe('wasm Conv2DBackpropFilter', () => {
  const prepared: Prepared[] = [];
  let cpuRun: TrainRun | undefined;

  // cpu references first (registered before onBackend, so it runs before the switch to wasm).
  beforeAll(async () => {
    await tf.setBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    for (const [i, c] of CASES.entries()) {
      const x = seededValues(size(c.x), 100 + i);
      const outShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape);
      const dy = seededValues(size(outShape), 200 + i);
      const expected = await filterGrad(c, x, dy, outShape);
      prepared.push({ c, x, dy, dyShape: outShape, expected });
    }
    cpuRun = await trainBarsTask();
  });
  onBackend('wasm');

  it('is registered for wasm, and registering again is a no-op', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc).toBe(wasmConv2DBackpropFilterConfig.kernelFunc);
    expect(() => registerWasmConv2DBackpropFilter()).not.toThrow();
    expect(registerWasmConv2DBackpropFilter()).toBe(false);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')?.kernelFunc).toBe(wasmConv2DBackpropFilterConfig.kernelFunc);
  });

  it.each(CASES.map((c, i) => [c.name, i] as const))('tf.grad of conv2d w.r.t. the filter equals cpu: %s', async (_name, i) => {
    expect(tf.getBackend()).toBe('wasm');
    const p = prepared[i]!;
    const actual = await filterGrad(p.c, p.x, p.dy, p.dyShape);
    expectClose(actual, p.expected);
  });

  const formCases = (Object.keys(FORMS) as Form[]).filter((f) => f !== 'auto').flatMap((form) => CASES.map((c, i) => [form, c.name, i] as const));
  it.each(formCases)('%s: equals cpu: %s', async (form, _name, i) => {
    const p = prepared[i]!;
    await withForm(form, async () => expectClose(await filterGrad(p.c, p.x, p.dy, p.dyShape), p.expected));
  });

  it.each((Object.keys(FORMS) as Form[]).map((f) => [f] as const))('%s: leaks no tensors and no backend buffers, and frees its views', async (form) => {
    await withForm(form, async () => {
      const buffers = () => tf.backend().numDataIds();
      for (const i of [CASES.findIndex((c) => c.x[0] === 11), CASES.findIndex((c) => c.x[3] === 1 && Array.isArray(c.pad))]) {
        const p = prepared[i]!;
        await filterGrad(p.c, p.x, p.dy, p.dyShape); // warm-up
        const before = { ...tf.memory(), buffers: buffers() };
        for (let k = 0; k < 2; k++) await filterGrad(p.c, p.x, p.dy, p.dyShape);
        expect({ ...tf.memory(), buffers: buffers() }).toEqual(before);
      }
    });
  });

  it('leaves its inputs intact (views of x and dy are read, never written)', async () => {
    await withForm('conv forced, chunks of 2 images', async () => {
      const p = prepared[CASES.findIndex((c) => c.x[0] === 11)]!;
      const x = tf.tensor4d(p.x, p.c.x);
      const dy = tf.tensor4d(p.dy, p.dyShape);
      const attrs = { strides: p.c.strides, pad: p.c.pad, dataFormat: 'NHWC', filterShape: p.c.filter } as unknown as tf.NamedAttrMap;
      for (const gemm of ['always', 'never'] as const) {
        conv2DBackpropFilterTuning.gemm = gemm;
        const g = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs) as tf.Tensor;
        expectClose((await g.data()) as Float32Array, p.expected);
        g.dispose();
      }
      expect(await x.data()).toEqual(p.x);
      expect(await dy.data()).toEqual(p.dy);
      tf.dispose([x, dy]);
    });
  });

  it('called as a kernel directly, it equals cpu (explicit pads)', async () => {
    const p = prepared.find((q) => Array.isArray(q.c.pad))!;
    const out = tf.tidy(() =>
      tf.engine().runKernel(
        'Conv2DBackpropFilter',
        { x: tf.tensor4d(p.x, p.c.x), dy: tf.tensor4d(p.dy, p.dyShape) },
        { strides: p.c.strides, pad: p.c.pad, dataFormat: 'NHWC', filterShape: p.c.filter } as unknown as tf.NamedAttrMap,
      ),
    ) as tf.Tensor;
    expect(out.shape).toEqual(p.c.filter);
    expectClose((await out.data()) as Float32Array, p.expected);
    out.dispose();
  });

  it('leaks no tensors and no backend buffers', async () => {
    const p = prepared.find((q) => q.c.pad === 'same' && q.c.strides === 2)!;
    // Intermediates are backend TensorInfos the engine never sees: count the backend's buffers too.
    const buffers = () => tf.backend().numDataIds();
    await filterGrad(p.c, p.x, p.dy, p.dyShape); // warm-up
    const before = { ...tf.memory(), buffers: buffers() };
    for (let k = 0; k < 3; k++) await filterGrad(p.c, p.x, p.dy, p.dyShape);
    expect({ ...tf.memory(), buffers: buffers() }).toEqual(before);

    const x = tf.tensor4d(p.x, p.c.x);
    const dy = tf.tensor4d(p.dy, p.dyShape);
    const mid = { tensors: tf.memory().numTensors, buffers: buffers() };
    const g = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
      strides: p.c.strides,
      pad: p.c.pad,
      dataFormat: 'NHWC',
      filterShape: p.c.filter,
    } as unknown as tf.NamedAttrMap) as tf.Tensor;
    // exactly one new tensor and one new backend buffer: the result
    expect({ tensors: tf.memory().numTensors, buffers: buffers() }).toEqual({
      tensors: mid.tensors + 1,
      buffers: mid.buffers + 1,
    });
    tf.dispose([g, x, dy]);
    expect({ ...tf.memory(), buffers: buffers() }).toEqual(before);
  });

  it('leaks no backend buffers when a case needs a crop (stride 2, valid, even size)', async () => {
    const p = prepared.find((q) => q.c.pad === 'valid' && q.c.strides === 2 && q.c.x[1] % 2 === 0)!;
    await filterGrad(p.c, p.x, p.dy, p.dyShape);
    const before = { tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() };
    await filterGrad(p.c, p.x, p.dy, p.dyShape);
    expect({ tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() }).toEqual(before);
  });

  it('throws a clear error for NCHW and for dilations, and leaks nothing doing so', () => {
    const before = { tensors: tf.memory().numTensors, buffers: tf.backend().numDataIds() };
    const x = tf.zeros([1, 2, 5, 5]);
    const dy = tf.zeros([1, 3, 4, 4]);
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, {
        strides: 1,
        pad: 'valid',
        dataFormat: 'NCHW',
        filterShape: [2, 2, 2, 3],
      } as unknown as tf.NamedAttrMap),
    ).toThrow(/wasm Conv2DBackpropFilter: dataFormat 'NCHW' is not supported; use 'NHWC'/);
    const xh = tf.zeros([1, 5, 5, 2]);
    const dyh = tf.zeros([1, 3, 3, 3]);
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: xh, dy: dyh }, {
        strides: 1,
        pad: 'valid',
        dataFormat: 'NHWC',
        filterShape: [2, 2, 2, 3],
        dilations: 2,
      } as unknown as tf.NamedAttrMap),
    ).toThrow(/wasm Conv2DBackpropFilter: dilations 2 are not supported/);
    // dy that does not fit x and the filter
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x: xh, dy: dyh }, {
        strides: 1,
        pad: 'valid',
        dataFormat: 'NHWC',
        filterShape: [2, 2, 2, 3],
      } as unknown as tf.NamedAttrMap),
    ).toThrow(/dy has shape \[1,3,3,3\], expected \[1,4,4,3\]/);
    tf.dispose([x, dy, xh, dyh]);
    expect(tf.memory().numTensors).toBe(before.tensors);
    expect(tf.backend().numDataIds()).toBe(before.buffers);
  });

  it('lets a small conv net train with model.fit on wasm, as it trains on cpu', async () => {
    expect(tf.getBackend()).toBe('wasm');
    const run = await trainBarsTask();
    expect(tf.getBackend()).toBe('wasm');
    expect(run.losses.every(Number.isFinite)).toBe(true);
    // the conv filter was actually trained (its gradient came from our kernel)
    expect(run.kernelMoved).toBeGreaterThan(1e-3);
    // a clear drop: ~ln 2 at the start; at most half of it after 8 epochs, and falling
    expect(run.lossAfter).toBeLessThan(0.5 * run.lossBefore);
    expect(run.losses[run.losses.length - 1]!).toBeLessThan(run.losses[0]!);
    // and the same trajectory as on the cpu backend
    expect(run.lossBefore).toBeCloseTo(cpuRun!.lossBefore, 4);
    for (const [e, loss] of run.losses.entries()) expect(Math.abs(loss - cpuRun!.losses[e]!)).toBeLessThan(1e-3);
  });
});
