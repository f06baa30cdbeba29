/**
 * ActiveLab's wasm `Slice` (src/backend/wasm-slice.ts: a contiguous slice copied straight from
 * the heap, anything else through tfjs-backend-wasm's kernel) against the cpu backend. Runs in
 * Node and in Chromium.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import '../../src/backend/index.ts';
import { originalWasmSlice, registerWasmSlice, wasmSliceConfig } from '../../src/backend/wasm-slice.ts';
import { seededValues, size } from '../support/seeded.ts';
import { cpuReferencesThenWasm, expectNoLeakOverRepeats, expectOneNewTensorAndBuffer, expectReplacesWasmKernel } from '../support/wasm-kernel-harness.ts';

interface Case {
  name: string;
  shape: number[];
  begin: number[];
  size: number[];
  dtype?: 'float32' | 'int32' | 'bool';
  /** Whether the slice is contiguous (our fast path) or goes to the original kernel. */
  contiguous: boolean;
}

const CASES: Case[] = [
  { name: 'rows of a matrix (a diversity chunk)', shape: [50, 7], begin: [10, 0], size: [13, -1], contiguous: true },
  { name: 'one row', shape: [50, 7], begin: [49, 0], size: [1, 7], contiguous: true },
  { name: 'a run of a vector', shape: [40], begin: [5], size: [30], contiguous: true },
  { name: 'the last entry of a vector', shape: [40], begin: [39], size: [1], contiguous: true },
  { name: 'leading block of a rank-4 tensor', shape: [6, 3, 4, 2], begin: [2, 0, 0, 0], size: [3, -1, -1, -1], contiguous: true },
  { name: 'inside one row of a matrix', shape: [5, 9], begin: [3, 2], size: [1, 4], contiguous: true },
  { name: 'empty', shape: [8, 3], begin: [8, 0], size: [0, 3], contiguous: true },
  { name: 'int32 rows', shape: [9, 4], begin: [3, 0], size: [4, 4], dtype: 'int32', contiguous: true },
  { name: 'bool rows', shape: [9, 4], begin: [3, 0], size: [2, 4], dtype: 'bool', contiguous: true },
  // the original kernel's cases
  { name: 'fallback: columns of a matrix', shape: [10, 6], begin: [0, 2], size: [-1, 3], contiguous: false },
  { name: 'fallback: a rank-3 window', shape: [4, 5, 6], begin: [1, 1, 2], size: [2, 3, 2], contiguous: false },
];

function input(c: Case, seed: number): tf.Tensor {
  const v = seededValues(size(c.shape), seed);
  if (c.dtype === 'int32') return tf.tensor(Int32Array.from(v, (x) => Math.round(x * 100)), c.shape, 'int32');
  if (c.dtype === 'bool') return tf.tensor(Uint8Array.from(v, (x) => (x > 0 ? 1 : 0)), c.shape, 'bool');
  return tf.tensor(v, c.shape);
}

const sliceOf = (c: Case, seed: number) => tf.tidy(() => tf.slice(input(c, seed), c.begin, c.size));

describe('wasm Slice', () => {
  const expected: { shape: number[]; dtype: string; values: number[] }[] = [];
  cpuReferencesThenWasm(async () => {
    for (const [i, c] of CASES.entries()) {
      const out = sliceOf(c, 300 + i);
      expected.push({ shape: out.shape, dtype: out.dtype, values: Array.from(await out.data()) });
      out.dispose();
    }
  });

  it("replaces tfjs-backend-wasm's kernel, and registering again is a no-op", () => {
    expectReplacesWasmKernel({ config: wasmSliceConfig, original: originalWasmSlice, register: registerWasmSlice });
  });

  it.each(CASES.map((c, i) => [c.name, i] as const))('equals cpu exactly: %s', async (_name, i) => {
    const out = sliceOf(CASES[i]!, 300 + i);
    expect(out.shape).toEqual(expected[i]!.shape);
    expect(out.dtype).toBe(expected[i]!.dtype);
    expect(Array.from(await out.data())).toEqual(expected[i]!.values);
    out.dispose();
  });

  it('reads no copy of the whole input for a contiguous slice (the original does)', () => {
    const x = tf.tensor2d(seededValues(200 * 8, 9), [200, 8]);
    const readSync = vi.spyOn(tf.backend(), 'readSync');
    try {
      tf.slice(x, [100, 0], [5, -1]).dispose();
      expect(readSync).not.toHaveBeenCalled();
      tf.slice(x, [0, 1], [-1, 2]).dispose(); // non-contiguous: the original, which reads it all
      expect(readSync).toHaveBeenCalled();
    } finally {
      readSync.mockRestore();
      x.dispose();
    }
  });

  it('leaks no tensors and no backend buffers, on both paths, and leaves its input as it was', async () => {
    await expectNoLeakOverRepeats(() => sliceOf(CASES[0]!, 1).dispose(), 3);
    await expectNoLeakOverRepeats(() => sliceOf(CASES.at(-1)!, 1).dispose(), 3);
    const x = input(CASES[0]!, 2);
    const xv = await x.data();
    const s = expectOneNewTensorAndBuffer(() => tf.engine().runKernel('Slice', { x }, { begin: [3, 0], size: [4, 7] }) as tf.Tensor);
    expect(await x.data()).toEqual(xv);
    tf.dispose([s, x]);
  });
});
