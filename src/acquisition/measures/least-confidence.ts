import * as tf from '@tensorflow/tfjs';
import { checkShape, probsOf, type MeasureOptions } from './_shared.ts';

/**
 * Least confidence of each row (seed 004): 1 - p(1), one minus the highest probability.
 * Higher = more uncertain; in [0, 1 - 1/C].
 *
 * @param probs [N, C] probabilities (or logits with `{fromLogits: true}`)
 * @returns [N]; the caller owns the tensor.
 * @example
 *   leastConfidence(tf.tensor2d([[0.2, 0.5, 0.3]]))  // [0.5]
 */
export function leastConfidence(probs: tf.Tensor, options: MeasureOptions = {}): tf.Tensor1D {
  checkShape(probs, 2, 'leastConfidence');
  return tf.tidy(() => tf.sub(1, tf.max(probsOf(probs, options.fromLogits), -1)) as tf.Tensor1D);
}
