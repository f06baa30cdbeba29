import * as tf from '@tensorflow/tfjs';
import { checkShape, probsOf, type MeasureOptions } from './_shared.ts';

/**
 * Margin of each row (seeds 001, 004): p(1) - p(2), the highest minus the second-highest
 * probability. Smaller = more uncertain.
 *
 * @param probs [N, C] probabilities (or logits with `{fromLogits: true}`), C >= 2
 * @returns [N] margins in [0, 1]; the caller owns the tensor.
 * @example
 *   margin(tf.tensor2d([[0.2, 0.5, 0.3]]))  // [0.2]
 */
export function margin(probs: tf.Tensor, options: MeasureOptions = {}): tf.Tensor1D {
  checkShape(probs, 2, 'margin', 2);
  return tf.tidy(() => {
    const top2 = tf.topk(probsOf(probs, options.fromLogits), 2).values; // [N, C] -> [N, 2]
    const [p1, p2] = tf.split(top2, 2, 1);
    return tf.sub(p1!, p2!).reshape([-1]) as tf.Tensor1D;
  });
}
