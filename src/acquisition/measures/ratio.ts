import * as tf from '@tensorflow/tfjs';
import { checkShape, type MeasureOptions } from './_shared.ts';

/**
 * Ratio of confidence of each row: p(2) / p(1), the second-highest over the highest
 * probability. Higher = more uncertain; in [0, 1], 1 when the top two tie.
 * From logits it is exp(z(2) - z(1)), which needs no softmax at all.
 *
 * @param probs [N, C] probabilities (or logits with `{fromLogits: true}`), C >= 2
 * @returns [N]; the caller owns the tensor.
 * @example
 *   ratio(tf.tensor2d([[0.2, 0.5, 0.3]]))  // [0.6]
 */
export function ratio(probs: tf.Tensor, options: MeasureOptions = {}): tf.Tensor1D {
  checkShape(probs, 2, 'ratio', 2);
  return tf.tidy(() => {
    const top2 = tf.topk(probs, 2).values; // [N, C] -> [N, 2]
    const [a, b] = tf.split(top2, 2, 1);
    const r = options.fromLogits ? tf.exp(tf.sub(b!, a!)) : tf.div(b!, a!);
    return r.reshape([-1]) as tf.Tensor1D;
  });
}
