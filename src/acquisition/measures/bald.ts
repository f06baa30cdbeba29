import * as tf from '@tensorflow/tfjs';
import { checkShape, entropyNats, probsOf, type MeasureOptions } from './_shared.ts';

/**
 * BALD, Bayesian Active Learning by Disagreement (Houlsby et al. 2011; Gal et al. 2017), over
 * T MC-dropout passes: the mutual information between the prediction and the weights,
 *   I = H[mean_t p_t] - mean_t H[p_t]   (nats).
 * Higher = the passes disagree more. By Jensen's inequality 0 <= I <= H[mean_t p_t]; float
 * rounding can push I a few ulps below 0, so it is clamped at 0.
 *
 * @param samples [T, N, C] per-pass probabilities (or logits with `{fromLogits: true}`)
 * @returns [N]; the caller owns the tensor.
 * @example
 *   bald(tf.tensor3d([[[1, 0]], [[0, 1]]]))  // [log 2]: each pass is certain, they disagree
 */
export function bald(samples: tf.Tensor, options: MeasureOptions = {}): tf.Tensor1D {
  checkShape(samples, 3, 'bald');
  return tf.tidy(() => {
    const p = probsOf(samples, options.fromLogits); // [T, N, C]
    const predictive = entropyNats(tf.mean(p, 0), false); // [N, C] -> [N]
    const expected = tf.mean(entropyNats(samples, options.fromLogits), 0); // [T, N] -> [N]
    return tf.maximum(tf.sub(predictive, expected), 0) as tf.Tensor1D;
  });
}
