import * as tf from '@tensorflow/tfjs';
import { checkShape, probsOf, type MeasureOptions } from './_shared.ts';

/**
 * Mean standard deviation over T MC-dropout passes (Kampffmeyer et al. 2016; Gal et al. 2017):
 *   sigma = (1/C) sum_c sqrt(E_t[p_c^2] - E_t[p_c]^2).
 * Higher = more uncertain. The variance under the root is clamped at 0 against rounding.
 *
 * @param samples [T, N, C] per-pass probabilities (or logits with `{fromLogits: true}`)
 * @returns [N]; the caller owns the tensor.
 * @example
 *   meanStd(tf.tensor3d([[[1, 0]], [[0, 1]]]))  // [0.5]
 */
export function meanStd(samples: tf.Tensor, options: MeasureOptions = {}): tf.Tensor1D {
  checkShape(samples, 3, 'meanStd');
  return tf.tidy(() => {
    const p = probsOf(samples, options.fromLogits); // [T, N, C]
    const mean = tf.mean(p, 0); // [N, C]
    const meanSq = tf.mean(tf.square(p), 0); // [N, C]
    const std = tf.sqrt(tf.relu(tf.sub(meanSq, tf.square(mean)))); // [N, C]
    return tf.mean(std, -1) as tf.Tensor1D; // [N, C] -> [N]
  });
}
