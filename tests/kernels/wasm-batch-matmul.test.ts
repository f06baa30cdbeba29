/**
 * ActiveLab's wasm `BatchMatMul` (src/backend/wasm-batch-matmul.ts: transposes first, then
 * calls tfjs-backend-wasm's kernel without flags) against the cpu backend. Runs in Node and in
 * Chromium.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../../src/backend/index.ts';
import { originalWasmBatchMatMul, registerWasmBatchMatMul, wasmBatchMatMulConfig } from '../../src/backend/wasm-batch-matmul.ts';
import { seededValues, size } from '../support/seeded.ts';
import {
  cpuReferencesThenWasm, expectClose, expectNoLeakOverRepeats, expectOneNewTensorAndBuffer, expectReplacesWasmKernel,
  leakCounts, runOriginalKernel
} from '../support/wasm-kernel-harness.ts';

interface Case {
  name: string;
  /** Batch dims of a and b ([] for rank 2), and the logical (untransposed) M, K, N. */
  batchA: number[];
  batchB: number[];
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

const FLAGS: [boolean, boolean][] = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
];
const SHAPES: Omit<Case, 'name' | 'transposeA' | 'transposeB'>[] = [
  { batchA: [], batchB: [], m: 5, k: 7, n: 3 },
  { batchA: [], batchB: [], m: 33, k: 64, n: 17 },
  { batchA: [3], batchB: [3], m: 4, k: 6, n: 5 },
  { batchA: [3], batchB: [], m: 4, k: 6, n: 5 }, // rank 3 x rank 2: b broadcast
  { batchA: [1], batchB: [4], m: 2, k: 3, n: 6 }, // a's batch of 1 broadcast
  { batchA: [4], batchB: [1], m: 6, k: 3, n: 2 }, // b's batch of 1 broadcast
  // small M against a wide N: with transposeB only, computed as (b · aᵀ)ᵀ
  { batchA: [], batchB: [], m: 3, k: 20, n: 40 },
  { batchA: [], batchB: [], m: 1, k: 8, n: 50 }, // a batch of one row
  { batchA: [1], batchB: [1], m: 2, k: 9, n: 30 },
  { batchA: [1, 1], batchB: [1, 1], m: 5, k: 16, n: 96 },
]
const CASES: Case[] = SHAPES.flatMap((s) =>
  FLAGS.map(([transposeA, transposeB]) => ({
    ...s,
    transposeA,
    transposeB,
    name: `[${[...s.batchA, s.m, s.k]}] x [${[...s.batchB, s.k, s.n]}], transposeA ${transposeA}, transposeB ${transposeB}`,
  })),
);

/** The stored (possibly transposed) shapes of a and b. */
const shapesOf = (c: Case) => ({
  a: [...c.batchA, ...(c.transposeA ? [c.k, c.m] : [c.m, c.k])],
  b: [...c.batchB, ...(c.transposeB ? [c.n, c.k] : [c.k, c.n])],
});

function matMul(c: Case, a: Float32Array, b: Float32Array): tf.Tensor {
  const s = shapesOf(c);
  return tf.tidy(() => tf.matMul(tf.tensor(a, s.a), tf.tensor(b, s.b), c.transposeA, c.transposeB));
}

interface Prepared {
  c: Case;
  a: Float32Array;
  b: Float32Array;
  shape: number[];
  expected: Float32Array;
}

describe('wasm BatchMatMul', () => {
  const prepared: Prepared[] = [];
  const gradX = seededValues(16 * 24, 901);
  const gradW = seededValues(24 * 10, 902);
  let cpuGrads: Float32Array[] = [];
  const denseGrads = () =>
    tf.tidy(() => {
      const x = tf.tensor2d(gradX, [16, 24]);
      const w = tf.tensor2d(gradW, [24, 10]);
      // the dense layer's gradients: dy·Wᵀ and xᵀ·dy
      return tf.grads((xv: tf.Tensor, wv: tf.Tensor) => tf.matMul(xv, wv).square().sum())([x, w]);
    });

  cpuReferencesThenWasm(async () => {
    for (const [i, c] of CASES.entries()) {
      const s = shapesOf(c);
      const a = seededValues(size(s.a), 600 + i);
      const b = seededValues(size(s.b), 700 + i);
      const out = matMul(c, a, b);
      prepared.push({ c, a, b, shape: out.shape, expected: (await out.data()) as Float32Array });
      out.dispose();
    }
    const g = denseGrads();
    cpuGrads = await Promise.all(g.map(async (t) => (await t.data()) as Float32Array));
    tf.dispose(g);
  });

  it("replaces tfjs-backend-wasm's kernel, and registering again is a no-op (never wraps twice)", () => {
    expectReplacesWasmKernel({ config: wasmBatchMatMulConfig, original: originalWasmBatchMatMul, register: registerWasmBatchMatMul });
  });

  it.each(CASES.map((c, i) => [c.name, i] as const))('equals cpu: %s', async (_name, i) => {
    expect(tf.getBackend()).toBe('wasm');
    const p = prepared[i]!;
    const out = matMul(p.c, p.a, p.b);
    expect(out.shape).toEqual(p.shape);
    expectClose((await out.data()) as Float32Array, p.expected);
    out.dispose();
  });

  it('equals the original kernel called with the same flags', async () => {
    for (const p of prepared) {
      const s = shapesOf(p.c);
      const a = tf.tensor(p.a, s.a);
      const b = tf.tensor(p.b, s.b);
      const theirs = runOriginalKernel(originalWasmBatchMatMul(), { a, b }, { transposeA: p.c.transposeA, transposeB: p.c.transposeB });
      const ours = tf.matMul(a, b, p.c.transposeA, p.c.transposeB);
      expect(ours.shape).toEqual(theirs.shape);
      expectClose((await ours.data()) as Float32Array, (await theirs.data()) as Float32Array);
      tf.dispose([a, b, ours, theirs]);
    }
  });

  it("a dense layer's gradients (BatchMatMul with transposeA / transposeB) equal cpu's", async () => {
    const g = denseGrads();
    for (const [k, t] of g.entries()) expectClose((await t.data()) as Float32Array, cpuGrads[k]!);
    tf.dispose(g);
  });

  it('still refuses what the original refuses (mismatched inner dims)', () => {
    const a = tf.zeros([3, 4]);
    const b = tf.zeros([5, 4]);
    expect(() => tf.matMul(a, b, true, true)).toThrow(/inner/);
    tf.dispose([a, b]);
  });

  describe('leaks no tensors and no backend buffers', () => {
    it.each(FLAGS.map(([ta, tb]) => [`transposeA ${ta}, transposeB ${tb}`, CASES.findIndex((c) => c.batchA.length === 1 && c.batchB.length === 0 && c.transposeA === ta && c.transposeB === tb)] as const))(
      '%s',
      async (_name, i) => {
        const p = prepared[i]!;
        const before = await expectNoLeakOverRepeats(() => matMul(p.c, p.a, p.b).dispose(), 3);

        const s = shapesOf(p.c);
        const a = tf.tensor(p.a, s.a);
        const b = tf.tensor(p.b, s.b);
        const out = expectOneNewTensorAndBuffer(
          () => tf.engine().runKernel('BatchMatMul', { a, b }, { transposeA: p.c.transposeA, transposeB: p.c.transposeB }) as tf.Tensor,
        );
        expect(out.shape).toEqual(p.shape);
        expectClose((await out.data()) as Float32Array, p.expected);
        tf.dispose([a, b, out]);
        expect(leakCounts()).toEqual(before);
      },
    );

    it('in the gradients of a dense layer', async () => {
      await expectNoLeakOverRepeats(() => tf.dispose(denseGrads()), 2);
    });
  });
});
