import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidProbabilitiesError, validateProbabilities } from '../../src/index.ts';
import { onBackend, TEST_BACKENDS } from '../support/backends.ts';

async function check(rows: number[][], opts = {}): Promise<void> {
  const t = tf.tensor2d(rows);
  try {
    await validateProbabilities(t, opts);
  } finally {
    t.dispose();
  }
}

describe.each(TEST_BACKENDS)('validateProbabilities on %s', (backend) => {
  onBackend(backend);
  afterEach(() => vi.restoreAllMocks());

  it('accepts valid probabilities, one-hot rows and an empty pool', async () => {
    await check([[0.2, 0.5, 0.3], [1, 0, 0], [0.25, 0.25, 0.5]]);
    const empty = tf.zeros([0, 10]);
    await validateProbabilities(empty);
    empty.dispose();
    const mc = tf.fill([4, 3, 2], 0.5);
    await validateProbabilities(mc, { rank: 3 });
    mc.dispose();
  });

  it('names the first row with NaN or Infinity, the class and the count of bad rows', async () => {
    await expect(check([[0.5, 0.5], [0.5, 0.5], [0.5, Number.NaN], [Infinity, 0]])).rejects.toThrow(
      'probs: row 2: class 1 is NaN (not finite); 2 bad rows in all',
    );
    await expect(check([[0.5, 0.5], [-Infinity, 1]])).rejects.toThrow('probs: row 1: class 0 is -Infinity (not finite)');
  });

  it('names a value outside [0, 1]', async () => {
    const err = await check([[0.5, 0.5], [1.25, -0.25]]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidProbabilitiesError);
    expect((err as InvalidProbabilitiesError).row).toBe(1);
    expect((err as InvalidProbabilitiesError).reason).toBe('out-of-range');
    expect((err as Error).message).toBe('probs: row 1: class 0 is 1.25, outside [0, 1]');
  });

  it('names a row that does not sum to 1 within the tolerance', async () => {
    await expect(check([[0.5, 0.5], [0.5, 0.4]])).rejects.toThrow('probs: row 1: sums to 0.9, expected 1 within 0.001');
    await check([[0.5, 0.4]], { tolerance: 0.2 });
    await expect(check([[0.5, 0.4]], { tolerance: 0.05, name: 'pool' })).rejects.toThrow(/^pool: row 0: sums to/);
  });

  it('reports MC samples by pass and row', async () => {
    const s = tf.tensor3d([[[0.5, 0.5], [0.5, 0.5]], [[0.5, 0.5], [0.9, 0.9]]]);
    await expect(validateProbabilities(s, { rank: 3 })).rejects.toThrow('probs: sample 1, row 1: sums to 1.8, expected 1 within 0.001');
    s.dispose();
  });

  it('rejects wrong rank, dtype and too few classes before touching the data', async () => {
    const v = tf.tensor1d([1]);
    await expect(validateProbabilities(v)).rejects.toThrow('probs: expected rank 2 [N, C], got shape [1]');
    const one = tf.tensor2d([[1]]);
    await expect(validateProbabilities(one)).rejects.toThrow('probs: needs at least 2 classes on the last axis, got shape [1, 1]');
    await validateProbabilities(one, { minClasses: 1 });
    const ints = tf.tensor2d([[1, 0]], undefined, 'int32');
    await expect(validateProbabilities(ints)).rejects.toThrow('probs: expected dtype float32, got int32');
    await expect(validateProbabilities(null as never)).rejects.toThrow('probs: expected a tf.Tensor, got null');
    [v, one, ints].forEach((t) => t.dispose());
  });

  it('reads back a few scalars, never the matrix, and leaks nothing on success or failure', async () => {
    const good = tf.fill([2000, 10], 0.1);
    const bad = tf.tensor2d([[0.5, 0.6]]);
    await validateProbabilities(good);
    await validateProbabilities(bad).catch(() => undefined);
    const dataSpy = vi.spyOn(tf.Tensor.prototype, 'data');
    const before = tf.memory().numTensors;
    await validateProbabilities(good);
    await validateProbabilities(bad).catch(() => undefined);
    expect(tf.memory().numTensors).toBe(before);
    expect(dataSpy).toHaveBeenCalledTimes(2);
    for (const call of dataSpy.mock.contexts) expect((call as tf.Tensor).size).toBeLessThanOrEqual(6);
    good.dispose();
    bad.dispose();
  });
});
