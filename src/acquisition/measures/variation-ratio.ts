import * as tf from '@tensorflow/tfjs';
import { checkShape, type MeasureOptions } from './_shared.ts';

/**
 * Variation ratio over T MC-dropout passes (Freeman 1965; Gal et al. 2017):
 *   VR = 1 - (number of passes whose argmax is the modal class) / T.
 * 0 when every pass predicts the same class; higher = more disagreement. Within a pass,
 * a tie for the argmax goes to the lower class index. Takes only T + 1 distinct values,
 * so expect ties in the ranking (selection breaks them by lower pool index).
 *
 * @param samples [T, N, C] per-pass probabilities or logits (argmax is the same for both)
 * @returns [N]; the caller owns the tensor.
 * @example
 *   variationRatio(tf.tensor3d([[[0.9, 0.1]], [[0.8, 0.2]], [[0.3, 0.7]]]))  // [1/3]
 */
export function variationRatio(samples: tf.Tensor, _options: MeasureOptions = {}): tf.Tensor1D {
  checkShape(samples, 3, 'variationRatio');
  const [t, , c] = samples.shape as [number, number, number];
  return tf.tidy(() => {
    const votes = tf.oneHot(tf.argMax(samples, -1), c); // [T, N] -> [T, N, C]
    const modal = tf.max(tf.sum(votes, 0), -1); // [N, C] -> [N]
    return tf.sub(1, tf.div(tf.cast(modal, 'float32'), t)) as tf.Tensor1D;
  });
}
