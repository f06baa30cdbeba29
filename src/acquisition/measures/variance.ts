import * as tf from '@tensorflow/tfjs';
import { checkShape, probsOf, type MeasureOptions } from './_shared.ts';

/**
 * Variance of each row's probabilities (seed 004):
 * Var = (1/C) sum_c (p_c - mu)^2 with mu = (1/C) sum_c p_c (= 1/C for a probability row).
 * Lower = more uncertain (a uniform row has variance 0).
 *
 * Note: the Hasty variance page prints 0.0067 for [0.4, 0.3, 0.3]; that is the sum of squares
 * without the 1/C factor. The formula gives 0.00222 and wins; the ranking is the same.
 *
 * @param probs [N, C] probabilities (or logits with `{fromLogits: true}`)
 * @returns [N]; the caller owns the tensor.
 * @example
 *   variance(tf.tensor2d([[0.5, 0.45, 0.05]]))  // [0.0406]
 */
export function variance(probs: tf.Tensor, options: MeasureOptions = {}): tf.Tensor1D {
  checkShape(probs, 2, 'variance');
  return tf.tidy(() => tf.moments(probsOf(probs, options.fromLogits), -1).variance as tf.Tensor1D);
}
