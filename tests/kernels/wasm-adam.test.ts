/**
 * `FusedAdam` (src/backend/fused-adam.ts) and its wasm kernel `ActiveLabAdam` (wasm-adam.ts):
 * bit for bit tfjs's `AdamOptimizer` on wasm over many steps (values and both moments), in the
 * SIMD module and in the JavaScript tail (sizes not a multiple of 4); one kernel per variable
 * instead of 14; no leaks; on cpu it is tfjs's Adam itself. Runs in Node and in Chromium.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import { FusedAdam } from '../../src/backend/fused-adam.ts';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { ADAM_KERNEL, wasmAdamUsesSimd } from '../../src/backend/wasm-adam.ts';
import { onBackend } from '../support/backends.ts';
import { seededValues, size } from '../support/seeded.ts';

/** Variable shapes: a dense kernel (481 elements: SIMD, then a tail of 1), a bias (13: tail of 1), a conv filter (96), a scalar (tail only). */
const SHAPES = [[37, 13], [13], [4, 4, 2, 3], []];
const STEPS = 25;

/**
 * Gradients of step `s` for variable `k`: seeded values at scales from 1e-30 (subnormal second
 * moments) to 1e6, with exact zeros, so that any difference in rounding would show.
 */
function gradient(k: number, s: number): tf.Tensor {
  const shape = SHAPES[k]!;
  const u = seededValues(size(shape), 1000 * k + s + 1);
  const scales = [1e-30, 1e-8, 1e-3, 1, 1e6];
  return tf.tensor(u.map((x, i) => (i % 11 === 5 ? 0 : x * scales[(i + s + k) % scales.length]!)), shape);
}

interface Run {
  values: number[][];
  /** The optimizer's weights after the last step: iterations, then first and second moments. */
  state: number[][];
  /** Kernel names of the last step (tf.profile). */
  kernels: string[];
}

/** `STEPS` updates of fresh seeded variables with `optimizer`, the last one profiled. */
async function train(make: () => tf.Optimizer, tag: string): Promise<Run> {
  const optimizer = make();
  const vars = SHAPES.map((shape, k) => tf.variable(tf.tensor(seededValues(size(shape), 77 + k), shape), true, `adam-test-${tag}-${k}`));
  const step = (s: number) => {
    const grads: tf.NamedTensorMap = {};
    vars.forEach((v, k) => (grads[v.name] = gradient(k, s)));
    optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
  };
  for (let s = 0; s < STEPS - 1; s++) step(s);
  const info = await tf.profile(() => step(STEPS - 1));
  const values = await Promise.all(vars.map(async (v) => Array.from(await v.data())));
  const weights = await optimizer.getWeights();
  const state = await Promise.all(weights.map(async (w) => Array.from(await w.tensor.data())));
  optimizer.dispose();
  tf.dispose(vars);
  return { values, state, kernels: info.kernels.map((k) => k.name).filter((n) => !n.endsWith('__op')) };
}

describe('FusedAdam on wasm', () => {
  onBackend('wasm');

  it('runs its SIMD module wherever the wasm backend has SIMD (Node; Chromium)', () => {
    expect(wasmAdamUsesSimd(tf.backend() as BackendWasm)).toBe(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'));
    expect(tf.env().getBool('WASM_HAS_SIMD_SUPPORT')).toBe(true);
  });

  it(`equals tfjs's AdamOptimizer bit for bit after ${STEPS} steps (values, moments, iterations)`, async () => {
    const a = await train(() => tf.train.adam(0.01), 'tf');
    const b = await train(() => new FusedAdam(0.01), 'fused');
    expect(b.values).toEqual(a.values);
    expect(b.state).toEqual(a.state);
    // The variables did move (the comparison is not of untouched values).
    expect(a.values[0]).not.toEqual(Array.from(seededValues(size(SHAPES[0]!), 77)));
  });

  it('equals it with other hyper-parameters too (lr 0.3, beta1 0.5, beta2 0.9, epsilon 1e-3)', async () => {
    const a = await train(() => tf.train.adam(0.3, 0.5, 0.9, 1e-3), 'tf2');
    const b = await train(() => new FusedAdam(0.3, 0.5, 0.9, 1e-3), 'fused2');
    expect(b.values).toEqual(a.values);
    expect(b.state).toEqual(a.state);
  });

  it('runs one ActiveLabAdam kernel per variable, where tfjs runs 14', async () => {
    const a = await train(() => tf.train.adam(0.01), 'tf3');
    const b = await train(() => new FusedAdam(0.01), 'fused3');
    expect(b.kernels.filter((k) => k === ADAM_KERNEL)).toHaveLength(SHAPES.length);
    expect(a.kernels.filter((k) => k === ADAM_KERNEL)).toHaveLength(0);
    expect(b.kernels.length).toBeLessThan(a.kernels.length / 4);
  });

  it('leaves no tensor behind: its first step creates the two moments, later steps nothing', () => {
    const before = tf.memory().numTensors;
    const optimizer = new FusedAdam(0.01); // accBeta1, accBeta2
    const v = tf.tidy(() => tf.variable(tf.ones([5, 3]), true, 'adam-test-leak'));
    const once = () => {
      const g = tf.fill([5, 3], 0.5);
      optimizer.applyGradients([{ name: v.name, tensor: g }]); // the list form
      g.dispose();
    };
    const start = tf.memory().numTensors;
    once();
    expect(tf.memory().numTensors).toBe(start + 2);
    for (let i = 0; i < 5; i++) once();
    expect(tf.memory().numTensors).toBe(start + 2);
    optimizer.dispose();
    v.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('says which input is wrong', () => {
    const value = tf.zeros([2, 2]);
    const bad = tf.zeros([4]);
    const s = tf.scalar(0.9);
    const attrs = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7, learningRate: 0.001 };
    expect(() => tf.engine().runKernel(ADAM_KERNEL, { value, m: value, v: value, gradient: bad, accBeta1: s, accBeta2: s }, attrs)).toThrow(/gradient has shape \[4\], the variable \[2,2\]/);
    const ints = tf.zeros([2, 2], 'int32');
    expect(() => tf.engine().runKernel(ADAM_KERNEL, { value, m: value, v: value, gradient: ints, accBeta1: s, accBeta2: s }, attrs)).toThrow(/ActiveLabAdam: gradient must be float32, got int32/);
    expect(() => tf.engine().runKernel(ADAM_KERNEL, { value, m: value, v: value, accBeta1: s, accBeta2: s }, attrs)).toThrow(/ActiveLabAdam: needs value, m, v, gradient, accBeta1 and accBeta2/);
    tf.dispose([value, bad, s, ints]);
  });
});

describe('FusedAdam elsewhere (cpu)', () => {
  it("is tfjs's AdamOptimizer: the same numbers and kernels, no ActiveLabAdam", async () => {
    await useBackend('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const a = await train(() => tf.train.adam(0.01), 'cpu-tf');
    const b = await train(() => new FusedAdam(0.01), 'cpu-fused');
    expect(b.values).toEqual(a.values);
    expect(b.state).toEqual(a.state);
    expect(b.kernels).toEqual(a.kernels);
  });
});
