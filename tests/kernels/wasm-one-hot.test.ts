/**
 * ActiveLab's wasm `OneHot` (src/backend/wasm-one-hot.ts: float outputs written in JS, int32
 * through tfjs-backend-wasm's kernel) against the cpu backend. Runs in Node and in Chromium.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../../src/backend/index.ts';
import { originalWasmOneHot, registerWasmOneHot, wasmOneHotConfig } from '../../src/backend/wasm-one-hot.ts';
import { cpuReferencesThenWasm, expectNoLeakOverRepeats, expectOneNewTensorAndBuffer, expectReplacesWasmKernel, runOriginalKernel } from '../support/wasm-kernel-harness.ts';

interface Case {
  name: string;
  indices: number[];
  shape: number[];
  depth: number;
  on?: number;
  off?: number;
  dtype: 'float32' | 'int32' | 'bool';
}

const CASES: Case[] = [
  { name: 'float32, the argmax one-hot of the measures', indices: [0, 2, 1, 2], shape: [4], depth: 3, dtype: 'float32' },
  { name: 'float32, on 0.5 and off -2', indices: [1, 0, 3], shape: [3], depth: 4, on: 0.5, off: -2, dtype: 'float32' },
  { name: 'float32, indices out of range give an all-off row', indices: [-1, 3, 1, 7], shape: [4], depth: 3, dtype: 'float32' },
  { name: 'float32, 2-D indices', indices: [0, 1, 2, 3, 4, 0], shape: [2, 3], depth: 5, dtype: 'float32' },
  { name: 'float32, no rows', indices: [], shape: [0], depth: 3, dtype: 'float32' },
  { name: 'bool', indices: [2, 0], shape: [2], depth: 3, dtype: 'bool' },
  { name: 'int32 (the original kernel)', indices: [1, 1, 0], shape: [3], depth: 2, on: 5, off: -1, dtype: 'int32' },
];

const oneHotOf = (c: Case) => tf.tidy(() => tf.oneHot(tf.tensor(c.indices, c.shape, 'int32'), c.depth, c.on ?? 1, c.off ?? 0, c.dtype));

describe('wasm OneHot', () => {
  const expected: { shape: number[]; dtype: string; values: number[] }[] = [];
  cpuReferencesThenWasm(async () => {
    for (const c of CASES) {
      const out = oneHotOf(c);
      expected.push({ shape: out.shape, dtype: out.dtype, values: Array.from(await out.data()) });
      out.dispose();
    }
  });

  it("replaces tfjs-backend-wasm's kernel, and registering again is a no-op", () => {
    expectReplacesWasmKernel({ config: wasmOneHotConfig, original: originalWasmOneHot, register: registerWasmOneHot });
  });

  it('the kernel it replaces writes int bits into a float32 output (the tfjs 4.22 bug, still there)', async () => {
    const out = runOriginalKernel(originalWasmOneHot(), { indices: tf.tensor1d([1], 'int32') }, { depth: 2, onValue: 1, offValue: 0, dtype: 'float32' });
    expect(Array.from(await out.data())).not.toEqual([0, 1]);
    out.dispose();
  });

  it.each(CASES.map((c, i) => [c.name, i] as const))('equals cpu exactly: %s', async (_name, i) => {
    const out = oneHotOf(CASES[i]!);
    expect(out.shape).toEqual(expected[i]!.shape);
    expect(out.dtype).toBe(expected[i]!.dtype);
    expect(Array.from(await out.data())).toEqual(expected[i]!.values);
    out.dispose();
  });

  it('leaks no tensors and no backend buffers, on both paths', async () => {
    await expectNoLeakOverRepeats(() => oneHotOf(CASES[0]!).dispose(), 3);
    await expectNoLeakOverRepeats(() => oneHotOf(CASES.at(-1)!).dispose(), 3);
    const indices = tf.tensor1d([0, 2], 'int32');
    const out = expectOneNewTensorAndBuffer(() => tf.engine().runKernel('OneHot', { indices }, { depth: 3, onValue: 1, offValue: 0, dtype: 'float32' }) as tf.Tensor);
    expect(Array.from(await indices.data())).toEqual([0, 2]);
    tf.dispose([out, indices]);
  });
});
