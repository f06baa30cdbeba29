/**
 * The device side of the stopping advice (`stopping.ts`): from probabilities on the GPU to the few
 * numbers the advice needs. Nothing N x C is read back.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * The stop set's predicted classes and mean normalised entropy from [S, C] probabilities (not
 * disposed: the caller's). Reads back S integers and one number.
 */
export async function stopSetSummary(probs: tf.Tensor2D): Promise<{ predicted: Int32Array; overallUncertainty: number }> {
  const [cls, ent] = tf.tidy(() => [tf.argMax(probs, -1), tf.mean(normalisedEntropy(probs))]);
  try {
    const [c, e] = await Promise.all([cls!.data(), ent!.data()]);
    return { predicted: Int32Array.from(c), overallUncertainty: e[0]! };
  } finally {
    cls!.dispose();
    ent!.dispose();
  }
}

/** The largest normalised entropy among [K, C] probabilities (not disposed). Reads back one number. */
export async function largestUncertainty(probs: tf.Tensor2D): Promise<number> {
  const m = tf.tidy(() => tf.max(normalisedEntropy(probs)));
  try {
    return (await m.data())[0]!;
  } finally {
    m.dispose();
  }
}

/** -sum p ln p / ln C per row, with 0 ln 0 = 0, clipped to [0, 1] against rounding; 0 for a single class. */
function normalisedEntropy(probs: tf.Tensor2D): tf.Tensor1D {
  const c = probs.shape[1];
  const h = tf.neg(tf.sum(tf.mul(probs, tf.log(tf.maximum(probs, 1e-30))), -1)) as tf.Tensor1D;
  return c > 1 ? tf.clipByValue(tf.div(h, Math.log(c)), 0, 1) as tf.Tensor1D : tf.mul(h, 0);
}
