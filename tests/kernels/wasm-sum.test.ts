/**
 * ActiveLab's wasm `Sum` (src/backend/wasm-sum.ts: leading axes through XNNPACK's AvgPool,
 * everything else through tfjs-backend-wasm's kernel) against the cpu backend. Runs in Node and
 * in Chromium.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../../src/backend/index.ts';
import { leadingAxes, originalWasmSum, registerWasmSum, wasmSumConfig } from '../../src/backend/wasm-sum.ts';
import { seededValues, size } from '../support/seeded.ts';
import { cpuReferencesThenWasm, expectClose, expectNoLeakOverRepeats, expectOneNewTensorAndBuffer } from '../support/wasm-kernel-harness.ts';

/** Relative tolerance against cpu (tighter than the harness's default 1e-4). */
const REL_TOL = 1e-5;

interface Case {
  name: string;
  shape: number[];
  axis: number | number[] | null;
  keepDims?: boolean;
  dtype?: 'float32' | 'int32';
  /** 'positive': all values in [0.5, 1.5) (the sum grows with N: float32 accumulation at its worst). */
  values?: 'random' | 'positive';
}

const CASES: Case[] = [
  { name: 'bias gradient of a conv, [3,5,4,6] over [0,1,2]', shape: [3, 5, 4, 6], axis: [0, 1, 2] },
  { name: 'same, keepDims', shape: [3, 5, 4, 6], axis: [0, 1, 2], keepDims: true },
  { name: 'axes unordered and negative, [-2,-4,-3]', shape: [2, 3, 4, 5], axis: [-2, -4, -3] },
  { name: 'dense bias gradient, [37,10] over axis 0', shape: [37, 10], axis: 0 },
  { name: 'rank 3 over [0,1], one kept channel', shape: [4, 9, 1], axis: [0, 1] },
  { name: 'rank 4 over [0], three kept axes', shape: [5, 2, 3, 4], axis: [0] },
  { name: 'Gal CNN conv2 bias gradient at batch 8, [8,22,22,32]', shape: [8, 22, 22, 32], axis: [0, 1, 2] },
  { name: 'large N, all positive, [64,25,25,4] over [0,1,2]', shape: [64, 25, 25, 4], axis: [0, 1, 2], values: 'positive' },
  // the original kernel's cases
  { name: 'fallback: leading axis of size 1 (N = 1)', shape: [1, 3, 4], axis: [0] },
  { name: 'fallback: inner axes [1,2]', shape: [3, 4, 5], axis: [1, 2] },
  { name: 'fallback: non-contiguous axes [0,2]', shape: [3, 4, 5], axis: [0, 2] },
  { name: 'fallback: all axes (null)', shape: [3, 4, 5], axis: null },
  { name: 'fallback: all axes listed', shape: [3, 4], axis: [0, 1], keepDims: true },
  { name: 'fallback: int32', shape: [6, 5], axis: 0, dtype: 'int32' },
  { name: 'fallback: rank 1', shape: [7], axis: 0 },
];

function input(c: Case, seed: number): tf.Tensor {
  const v = seededValues(size(c.shape), seed);
  if (c.values === 'positive') for (let i = 0; i < v.length; i++) v[i] = 1 + 0.5 * v[i]!;
  if (c.dtype === 'int32') return tf.tensor(Int32Array.from(v, (x) => Math.round(x * 100)), c.shape, 'int32');
  return tf.tensor(v, c.shape);
}

function sumOf(c: Case, seed: number): tf.Tensor {
  return tf.tidy(() => tf.sum(input(c, seed), c.axis ?? undefined, c.keepDims ?? false));
}

describe('wasm Sum', () => {
  const expected: { shape: number[]; dtype: string; values: Float32Array | Int32Array }[] = [];
  let cpuBiasGrad: Float32Array | undefined;
  const biasGrad = () =>
    tf.tidy(() => {
      const x = tf.tensor4d(seededValues(2 * 6 * 5 * 3, 71), [2, 6, 5, 3]);
      const b = tf.tensor1d(seededValues(3, 72));
      return tf.grad((bv: tf.Tensor) => tf.add(x, bv).square().sum())(b);
    });

  cpuReferencesThenWasm(async () => {
    for (const [i, c] of CASES.entries()) {
      const out = sumOf(c, 500 + i);
      expected.push({ shape: out.shape, dtype: out.dtype, values: (await out.data()) as Float32Array | Int32Array });
      out.dispose();
    }
    const g = biasGrad();
    cpuBiasGrad = (await g.data()) as Float32Array;
    g.dispose();
  });

  it("replaces tfjs-backend-wasm's kernel, and registering again is a no-op", () => {
    const registered = tf.getKernel('Sum', 'wasm');
    expect(registered?.kernelFunc).toBe(wasmSumConfig.kernelFunc);
    const original = originalWasmSum();
    expect(original).toBeDefined();
    expect(registered?.setupFunc).toBe(original!.setupFunc);
    expect(registerWasmSum()).toBe(false);
    expect(tf.getKernel('Sum', 'wasm')?.kernelFunc).toBe(wasmSumConfig.kernelFunc);
  });

  it('recognises exactly the leading axes', () => {
    expect(leadingAxes([0, 1, 2], 4)).toBe(3);
    expect(leadingAxes([2, 0, 1], 4)).toBe(3);
    expect(leadingAxes([-4, -3], 4)).toBe(2);
    expect(leadingAxes(0, 2)).toBe(1);
    expect(leadingAxes([1, 2], 4)).toBe(0);
    expect(leadingAxes([0, 2], 4)).toBe(0);
    expect(leadingAxes([0, 0], 4)).toBe(0);
    expect(leadingAxes(undefined, 3)).toBe(0);
  });

  it.each(CASES.map((c, i) => [c.name, i] as const))('equals cpu: %s', async (_name, i) => {
    const c = CASES[i]!;
    const out = sumOf(c, 500 + i);
    const e = expected[i]!;
    expect(out.shape).toEqual(e.shape);
    expect(out.dtype).toBe(e.dtype);
    const values = await out.data();
    if (c.dtype === 'int32') expect(Array.from(values)).toEqual(Array.from(e.values));
    else expectClose(values as Float32Array, e.values, REL_TOL);
    out.dispose();
  });

  it('gives the bias gradient of add(x, bias) as cpu does', async () => {
    const g = biasGrad();
    expectClose((await g.data()) as Float32Array, cpuBiasGrad!, REL_TOL);
    g.dispose();
  });

  it('leaks no tensors and no backend buffers, on the fast path and the fallback', async () => {
    for (const i of [0, 1, CASES.findIndex((c) => c.axis === null)]) {
      await expectNoLeakOverRepeats(() => sumOf(CASES[i]!, 1).dispose(), 3);
    }
    // called as a kernel: exactly one new tensor and one new buffer, its input untouched
    const x = input(CASES[0]!, 3);
    const xv = await x.data();
    const s = expectOneNewTensorAndBuffer(() => tf.engine().runKernel('Sum', { x }, { axis: [0, 1, 2], keepDims: false }) as tf.Tensor);
    expect(await x.data()).toEqual(xv);
    tf.dispose([s, x]);
  });
});
