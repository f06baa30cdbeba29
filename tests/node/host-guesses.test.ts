/**
 * What a labeling run reads back of its model (src/app/host/guesses.ts): the top-3 classes of
 * each queried row and one drawn example's probabilities, against fixed probabilities, with no
 * tensor left behind.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { exampleProbs, topGuesses } from '../../src/app/host/guesses.ts';
import { asDatasetRows } from '../../src/engine/rows.ts';
import { onBackend } from '../support/backends.ts';

const PROBS = [
  [0.1, 0.5, 0.05, 0.3, 0.05],
  [0.6, 0.1, 0.1, 0.1, 0.1],
];

describe('topGuesses and exampleProbs (cpu)', () => {
  onBackend('cpu');
  const learner = {
    predictProbs: (rows: Int32Array) => tf.tensor2d(Array.from(rows, (r) => PROBS[r]!)),
    predictOn: (x: tf.Tensor) => tf.tidy(() => tf.softmax(tf.reshape(x, [1, -1]).mul(tf.scalar(2))) as tf.Tensor2D),
  };

  it('reads the three likeliest classes of each row, in order, and leaks nothing', async () => {
    await topGuesses(learner, asDatasetRows(Int32Array.of(0)));
    const before = tf.memory().numTensors;
    const g = await topGuesses(learner, asDatasetRows(Int32Array.of(1, 0)));
    expect(tf.memory().numTensors).toBe(before);
    expect(g.k).toBe(3);
    expect(Array.from(g.classes.slice(3))).toEqual([1, 3, 0]);
    expect(Array.from(g.probs.slice(3))).toEqual([0.5, 0.3, 0.1].map((p) => Math.fround(p)));
    expect(g.classes[0]).toBe(0);
    expect(g.probs[0]).toBeCloseTo(0.6, 6);
    expect((await topGuesses(learner, asDatasetRows(Int32Array.of(0)), 9)).k).toBe(5);
    expect((await topGuesses(learner, asDatasetRows(new Int32Array(0)))).classes).toHaveLength(0);
  });

  it("gives one example's probabilities from its bytes scaled by 1/255, and names a wrong size", async () => {
    const before = tf.memory().numTensors;
    const p = await exampleProbs(learner, Uint8Array.of(0, 255, 0), [3]);
    expect(tf.memory().numTensors).toBe(before);
    // softmax(2 * [0, 1, 0])
    const e = Math.exp(2);
    expect(p[1]).toBeCloseTo(e / (e + 2), 6);
    expect(p[0]).toBeCloseTo(1 / (e + 2), 6);
    await expect(exampleProbs(learner, new Uint8Array(4), [3])).rejects.toThrow(/has 4 values; the model takes \[3\] = 3/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
