/**
 * ActiveLab's wasm `Conv2DBackpropFilter` (src/backend/wasm-conv2d-backprop-filter.ts) against
 * the cpu backend's gradient of `tf.conv2d` w.r.t. the filter. Runs in Node and in Chromium.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../../src/backend/index.ts';
import {
  conv2DBackpropFilterTuning,
  registerWasmConv2DBackpropFilter,
  wasmConv2DBackpropFilterConfig,
} from '../../src/backend/wasm-conv2d-backprop-filter.ts';
import { SHARED_CONV_CASES as SHARED, type ConvCase } from '../support/conv-cases.ts';
import { seededValues, size } from '../support/seeded.ts';
import {
  barsTask, cpuReferencesThenWasm, expectClose, expectNoLeakOverRepeats, expectOneNewTensorAndBuffer,
  expectSameLossCurve, glorot, leakCounts, liveCounts, trainBars, trainOnWasm, type GradCase, type Shape4,
  type TrainRun
} from '../support/wasm-kernel-harness.ts';

type Case = ConvCase;

const CASES: Case[] = [
  SHARED.validStride1,
  SHARED.validStride2EvenSize,
  { name: 'valid, stride 2, odd size', x: [2, 9, 7, 2], filter: [3, 2, 2, 3], strides: 2, pad: 'valid' },
  SHARED.sameStride1,
  SHARED.sameStride1EvenFilter,
  SHARED.sameStride2EvenFilterHeight,
  { name: 'same, stride 2, even size', x: [4, 8, 6, 2], filter: [4, 2, 2, 3], strides: 2, pad: 'same' },
  SHARED.validStrides21,
  { name: 'same, stride 3 > 1x1 filter', x: [2, 9, 10, 2], filter: [1, 1, 2, 3], strides: 3, pad: 'same' },
  SHARED.explicitPadsStrides21,
  SHARED.numericPad1Stride2,
  SHARED.batch1Cin1Cout1,
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


/** A case with its seeded x and dy; expected: cpu: d/dw sum(conv2d(x, w) * dy), i.e. Conv2DBackpropFilter(x, dy). */
interface Prepared extends GradCase<Case> {
  x: Float32Array;
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

/** The kernel called directly (through the engine) on the active backend. */
function runKernel(x: tf.Tensor, dy: tf.Tensor, attrs: Record<string, unknown>): tf.Tensor {
  return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as tf.NamedAttrMap) as tf.Tensor;
}

/** The NHWC attrs of a case. */
const attrsOf = (c: Case) => ({ strides: c.strides, pad: c.pad, dataFormat: 'NHWC', filterShape: c.filter });

/**
 * conv2d 8@3x3 relu -> maxpool 2 -> flatten -> dense 2 softmax, seeded, on 64 noisy 10x10 bars
 * images; trained with `fit` for 8 epochs. The conv's filter gradient is a Conv2DBackpropFilter.
 */
const trainBarsTask = () =>
  trainBars(
    barsTask({ side: 10, noiseSeed: 7, posSeed: 8 }, (side) => [
      tf.layers.conv2d({ inputShape: [side, side, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: glorot(11) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: glorot(12) }),
    ]),
    8,
  );

describe('wasm Conv2DBackpropFilter', () => {
  const prepared: Prepared[] = [];
  let cpuRun: TrainRun | undefined;

  cpuReferencesThenWasm(async () => {
    for (const [i, c] of CASES.entries()) {
      const x = seededValues(size(c.x), 100 + i);
      const outShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(c.filter) as tf.Tensor4D, c.strides, c.pad).shape);
      const dy = seededValues(size(outShape), 200 + i);
      const expected = await filterGrad(c, x, dy, outShape);
      prepared.push({ c, x, dy, dyShape: outShape, expected });
    }
    cpuRun = await trainBarsTask();
  });

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
      for (const i of [CASES.findIndex((c) => c.x[0] === 11), CASES.findIndex((c) => c.x[3] === 1 && Array.isArray(c.pad))]) {
        const p = prepared[i]!;
        await expectNoLeakOverRepeats(() => filterGrad(p.c, p.x, p.dy, p.dyShape), 2);
      }
    });
  });

  it('leaves its inputs intact (views of x and dy are read, never written)', async () => {
    await withForm('conv forced, chunks of 2 images', async () => {
      const p = prepared[CASES.findIndex((c) => c.x[0] === 11)]!;
      const x = tf.tensor4d(p.x, p.c.x);
      const dy = tf.tensor4d(p.dy, p.dyShape);
      for (const gemm of ['always', 'never'] as const) {
        conv2DBackpropFilterTuning.gemm = gemm;
        const g = runKernel(x, dy, attrsOf(p.c));
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
    const out = tf.tidy(() => runKernel(tf.tensor4d(p.x, p.c.x), tf.tensor4d(p.dy, p.dyShape), attrsOf(p.c)));
    expect(out.shape).toEqual(p.c.filter);
    expectClose((await out.data()) as Float32Array, p.expected);
    out.dispose();
  });

  it('leaks no tensors and no backend buffers', async () => {
    const p = prepared.find((q) => q.c.pad === 'same' && q.c.strides === 2)!;
    // Intermediates are backend TensorInfos the engine never sees: leakCounts counts the backend's buffers too.
    const before = await expectNoLeakOverRepeats(() => filterGrad(p.c, p.x, p.dy, p.dyShape), 3);

    const x = tf.tensor4d(p.x, p.c.x);
    const dy = tf.tensor4d(p.dy, p.dyShape);
    const g = expectOneNewTensorAndBuffer(() => runKernel(x, dy, attrsOf(p.c)));
    tf.dispose([g, x, dy]);
    expect(leakCounts()).toEqual(before);
  });

  it('leaks no backend buffers when a case needs a crop (stride 2, valid, even size)', async () => {
    const p = prepared.find((q) => q.c.pad === 'valid' && q.c.strides === 2 && q.c.x[1] % 2 === 0)!;
    await expectNoLeakOverRepeats(() => filterGrad(p.c, p.x, p.dy, p.dyShape), 1);
  });

  it('throws a clear error for NCHW and for dilations, and leaks nothing doing so', () => {
    const before = liveCounts();
    const x = tf.zeros([1, 2, 5, 5]);
    const dy = tf.zeros([1, 3, 4, 4]);
    const valid2x2 = { strides: 1, pad: 'valid', filterShape: [2, 2, 2, 3] };
    expect(() => runKernel(x, dy, { ...valid2x2, dataFormat: 'NCHW' })).toThrow(
      /wasm Conv2DBackpropFilter: dataFormat 'NCHW' is not supported; use 'NHWC'/,
    );
    const xh = tf.zeros([1, 5, 5, 2]);
    const dyh = tf.zeros([1, 3, 3, 3]);
    expect(() => runKernel(xh, dyh, { ...valid2x2, dataFormat: 'NHWC', dilations: 2 })).toThrow(
      /wasm Conv2DBackpropFilter: dilations 2 are not supported/,
    );
    // dy that does not fit x and the filter
    expect(() => runKernel(xh, dyh, { ...valid2x2, dataFormat: 'NHWC' })).toThrow(/dy has shape \[1,3,3,3\], expected \[1,4,4,3\]/);
    tf.dispose([x, dy, xh, dyh]);
    expect(liveCounts()).toEqual(before);
  });

  it('lets a small conv net train with model.fit on wasm, as it trains on cpu', async () => {
    const run = await trainOnWasm(trainBarsTask);
    // the conv filter was actually trained (its gradient came from our kernel)
    expect(run.kernelMoved).toBeGreaterThan(1e-3);
    // a clear drop: ~ln 2 at the start; at most half of it after 8 epochs, and falling
    expect(run.lossAfter).toBeLessThan(0.5 * run.lossBefore);
    expect(run.losses[run.losses.length - 1]!).toBeLessThan(run.losses[0]!);
    // and the same trajectory as on the cpu backend (finite losses, each epoch within 1e-3)
    expectSameLossCurve(run, cpuRun!);
  });
});
