/**
 * What a labeling run shows of its model, computed in the host and read back small: the three
 * likeliest classes of each queried row ([k, 3] numbers, never the [k, C] probabilities), and the
 * class probabilities of one drawn digit (C numbers).
 */
import * as tf from '@tensorflow/tfjs';
import type { Learner } from '../../engine/learner.ts';
import type { DatasetRows } from '../../engine/rows.ts';

/** The `k` (at most 3, at most C) likeliest classes of each row, and their probabilities, row-major [n, k]. */
export async function topGuesses(learner: Pick<Learner, 'predictProbs'>, rows: DatasetRows, most = 3): Promise<{ classes: Int32Array; probs: Float32Array; k: number }> {
  if (rows.length === 0) return { classes: new Int32Array(0), probs: new Float32Array(0), k: 0 };
  const probs = learner.predictProbs(rows); // [n, C]
  const k = Math.min(most, probs.shape[1]);
  const { values, indices } = tf.topk(probs, k); // [n, k] each
  probs.dispose();
  try {
    const [p, c] = await Promise.all([values.data(), indices.data()]);
    return { classes: Int32Array.from(c), probs: Float32Array.from(p), k };
  } finally {
    values.dispose();
    indices.dispose();
  }
}

/**
 * The class probabilities of one example given as dataset-style bytes (0..255, scaled by 1/255 as
 * `batchTensor` scales the dataset's pixels), of shape `shape`.
 */
export async function exampleProbs(learner: Pick<Learner, 'predictOn'>, pixels: Uint8Array, shape: readonly number[]): Promise<number[]> {
  const d = shape.reduce((a, b) => a * b, 1);
  if (pixels.length !== d) throw new RangeError(`the drawn example has ${pixels.length} values; the model takes [${shape.join(', ')}] = ${d}`);
  const x = tf.tensor(Float32Array.from(pixels, (v) => v / 255), [1, ...shape]);
  let probs: tf.Tensor2D;
  try {
    probs = learner.predictOn(x); // [1, C]
  } finally {
    x.dispose();
  }
  try {
    return Array.from(await probs.data());
  } finally {
    probs.dispose();
  }
}
