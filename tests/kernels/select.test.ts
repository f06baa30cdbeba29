import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { selectTopK, SelectionError, topKIndices } from '../../src/index.ts';
import { onBackend, TEST_BACKENDS, isGpuBackend } from '../support/backends.ts';

/** Reference: sort all candidates by (score desc, index asc), take k. */
function refTopK(values: number[], k: number, excluded = new Set<number>()): number[] {
  return values
    .map((v, i) => [v, i] as const)
    .filter(([v, i]) => !Number.isNaN(v) && !excluded.has(i))
    .sort((a, b) => (b[0] !== a[0] ? (b[0] > a[0] ? 1 : -1) : a[1] - b[1]))
    .slice(0, k)
    .map(([, i]) => i);
}

async function select(values: number[], k: number, exclude?: Int32Array | Uint8Array | number[]): Promise<number[]> {
  const t = tf.tensor1d(values);
  try {
    return Array.from(await selectTopK(t, k, exclude === undefined ? {} : { exclude }));
  } finally {
    t.dispose();
  }
}

describe.each(TEST_BACKENDS)('selectTopK on %s', (backend) => {
  onBackend(backend);
  afterEach(() => vi.restoreAllMocks());

  it('finds planted most-informative rows in a large pool, best first', async () => {
    const n = 20_000;
    const v = Array.from({ length: n }, (_, i) => ((i * 7919) % 1000) / 1000); // in [0, 1)
    const planted = [17, 19_999, 4242, 0, 12_345];
    planted.forEach((i, r) => (v[i] = 5 - r)); // 5, 4, 3, 2, 1
    expect(await select(v, 5)).toEqual(planted);
  });

  it('never chooses excluded rows (indices or mask)', async () => {
    const v = [0.9, 0.8, 0.7, 0.6, 0.5];
    expect(await select(v, 2, [0, 2])).toEqual([1, 3]);
    expect(await select(v, 2, Int32Array.from([1]))).toEqual([0, 2]);
    expect(await select(v, 3, Uint8Array.from([1, 1, 0, 0, 1]))).toEqual([2, 3]);
  });

  it('never chooses NaN; -Infinity is a valid last choice; +Infinity first', async () => {
    expect(await select([Number.NaN, 0.1, Number.NaN, -Infinity, Infinity], 10)).toEqual([4, 1, 3]);
    expect(await select([Number.NaN, Number.NaN], 3)).toEqual([]);
  });

  it('breaks ties by the lower index', async () => {
    expect(await select([0.5, 0.7, 0.5, 0.7, 0.5], 3)).toEqual([1, 3, 0]);
    expect(await select(new Array(1000).fill(1), 4)).toEqual([0, 1, 2, 3]);
  });

  it('returns all candidates, best first, when k exceeds them', async () => {
    expect(await select([0.1, 0.3, 0.2], 10)).toEqual([1, 2, 0]);
    expect(await select([0.1, 0.3, 0.2], 10, [1])).toEqual([2, 0]);
  });

  it('rejects k <= 0, non-integer k, bad exclusions and non-vectors with a SelectionError', async () => {
    for (const k of [0, -1, 2.5, Number.NaN, Infinity]) {
      await expect(select([1, 2], k)).rejects.toThrow(SelectionError);
      await expect(select([1, 2], k)).rejects.toThrow(`selectTopK: k must be a positive integer, got ${k}`);
    }
    await expect(select([1, 2], 1, [2])).rejects.toThrow('selectTopK: exclude[0] = 2 is not a pool index in [0, 2)');
    await expect(select([1, 2], 1, Uint8Array.from([1]))).rejects.toThrow('exclude mask has length 1, expected 2');
    const m = tf.tensor2d([[1, 2]]);
    await expect(selectTopK(m, 1)).rejects.toThrow('selectTopK: scores must be a rank-1 tensor [N], got shape [1, 2]');
    m.dispose();
  });

  it('agrees with a sort-based reference on random scores with ties, NaN and exclusions', async () => {
    const arb = fc.record({
      values: fc.array(fc.oneof(fc.constantFrom(0, 0.5, 1, Number.NaN), fc.float({ min: -10, max: 10, noNaN: true })), { minLength: 1, maxLength: 300 }),
      k: fc.integer({ min: 1, max: 320 }),
      ex: fc.array(fc.nat(), { maxLength: 40 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async ({ values, k, ex }) => {
        const vf = Array.from(Float32Array.from(values));
        const exclude = ex.map((e) => e % vf.length);
        expect(await select(vf, k, exclude)).toEqual(refTopK(vf, k, new Set(exclude)));
      }),
      { numRuns: isGpuBackend(backend) ? 30 : 100, seed: 7 },
    );
  });

  it('reads back only the N scores: one async data(), no dataSync/readSync, no TopK kernel', async () => {
    const n = 5000;
    const scores = tf.tensor1d(Float32Array.from({ length: n }, (_, i) => Math.sin(i)));
    const dataSpy = vi.spyOn(tf.Tensor.prototype, 'data');
    const syncSpy = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    const readSyncSpy = vi.spyOn(tf.backend(), 'readSync');
    const profile = await tf.profile(async () => {
      await selectTopK(scores, 200);
      return tf.scalar(0);
    });
    expect(dataSpy).toHaveBeenCalledTimes(1);
    expect(syncSpy).not.toHaveBeenCalled();
    // cpu and wasm serve data() through their readSync; WebGL and WebGPU have a real async path.
    if (isGpuBackend(backend)) expect(readSyncSpy).not.toHaveBeenCalled();
    expect(profile.kernelNames).not.toContain('TopK');
    scores.dispose();
  });

  it('identical selections across backends for well-separated scores', async () => {
    // Scores spaced 1e-3 apart are far beyond float32 and GPU rounding; the picks are fixed.
    const n = 3000;
    const v = Array.from({ length: n }, (_, i) => ((i * 37) % n) / 1000);
    const picked = await select(v, 50);
    expect(picked).toEqual(refTopK(v, 50));
  });

  it('leaks no tensors', async () => {
    const s = tf.tensor1d([3, 1, 2]);
    await selectTopK(s, 2);
    const before = tf.memory().numTensors;
    await selectTopK(s, 2, { exclude: [0] });
    expect(tf.memory().numTensors).toBe(before);
    s.dispose();
  });
});

describe('topKIndices (CPU selector)', () => {
  it('works on plain arrays and typed arrays', () => {
    expect(Array.from(topKIndices([1, 3, 2], 2))).toEqual([1, 2]);
    expect(Array.from(topKIndices(Float32Array.from([1, 3, 2, 3]), 3))).toEqual([1, 3, 2]);
    expect(() => topKIndices([1], 0)).toThrow(SelectionError);
  });
});
