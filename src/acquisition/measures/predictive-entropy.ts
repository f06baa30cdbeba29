import * as tf from '@tensorflow/tfjs';
import { checkShape, entropyNats, probsOf, type MeasureOptions } from './_shared.ts';

/**
 * Predictive entropy over T stochastic forward passes (MC dropout): H[mean_t p_t], the
 * entropy in nats of the mean predictive distribution. Higher = more uncertain.
 *
 * @param samples [T, N, C] per-pass probabilities (or logits with `{fromLogits: true}`)
 * @returns [N]; the caller owns the tensor.
 * @example
 *   predictiveEntropy(tf.tensor3d([[[1, 0]], [[0, 1]]]))  // [log 2]
 */
export function predictiveEntropy(samples: tf.Tensor, options: MeasureOptions = {}): tf.Tensor1D {
  checkShape(samples, 3, 'predictiveEntropy');
  return tf.tidy(() => {
    const mean = tf.mean(probsOf(samples, options.fromLogits), 0); // [T, N, C] -> [N, C]
    return entropyNats(mean, false) as tf.Tensor1D; // [N, C] -> [N]
  });
}
