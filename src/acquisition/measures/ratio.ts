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
    // Top two without a sort, as in margin: knock out the first argmax only, max again.
    // Probabilities are in [0, 1], so subtracting 2 knocks one out; logits are unbounded, so
    // there the argmax is replaced by -Infinity with a select.
    const c = probs.shape[1]!;
    const a = tf.max(probs, -1); // [N]
    const top = tf.oneHot(tf.argMax(probs, -1), c, 1, 0, 'float32'); // [N, C]: 1 at the argmax
    const rest = options.fromLogits
      ? tf.where(tf.cast(top, 'bool'), tf.fill(probs.shape, -Infinity), probs)
      : tf.sub(probs, tf.mul(top, 2));
    const b = tf.max(rest, -1); // [N]
    return (options.fromLogits ? tf.exp(tf.sub(b, a)) : tf.div(b, a)) as tf.Tensor1D;
  });
}
