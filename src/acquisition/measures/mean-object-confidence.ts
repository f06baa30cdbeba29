import * as tf from '@tensorflow/tfjs';
import { InvalidProbabilitiesError } from '../errors.ts';
import { checkShape, probsOf, type MeasureOptions } from './_shared.ts';

export interface MeanObjectConfidenceOptions extends MeasureOptions {
  /**
   * The value of a sample with no valid instance (an all-zero mask row). The mean over an
   * empty set is undefined; by default such a sample gets 0, "no confident object at all",
   * which ranks it as least confident (asked first by a lower-is-uncertain strategy).
   * Pass NaN to have such samples never selected instead (selection skips NaN scores).
   * @default 0
   */
  emptyValue?: number;
}

/**
 * Mean object confidence of each sample (seed 004), for detectors and other models that
 * predict M instances per sample: U(x) = (1/M_x) sum_i max_c p_i(c), the mean over the
 * sample's valid instances of the highest class probability. Lower = more uncertain.
 *
 * @param probs [N, M, C] per-instance probabilities (or logits with `{fromLogits: true}`)
 * @param mask [N, M], 1 where instance i of sample n is valid, 0 for padding (bool or numeric)
 * @returns [N]; the caller owns the tensor.
 * @example
 *   meanObjectConfidence(tf.tensor3d([[[0.9, 0.1], [0.6, 0.4]]]), tf.tensor2d([[1, 1]]))  // [0.75]
 */
export function meanObjectConfidence(
  probs: tf.Tensor,
  mask: tf.Tensor,
  options: MeanObjectConfidenceOptions = {},
): tf.Tensor1D {
  checkShape(probs, 3, 'meanObjectConfidence');
  const [n, m] = probs.shape;
  if (!(mask instanceof tf.Tensor) || mask.rank !== 2 || mask.shape[0] !== n || mask.shape[1] !== m) {
    const got = mask instanceof tf.Tensor ? `[${mask.shape.join(', ')}]` : typeof mask;
    throw new InvalidProbabilitiesError(`meanObjectConfidence: mask must have shape [${n}, ${m}] to match probs, got ${got}`);
  }
  const emptyValue = options.emptyValue ?? 0;
  return tf.tidy(() => {
    const conf = tf.max(probsOf(probs, options.fromLogits), -1); // [N, M, C] -> [N, M]
    const valid = tf.cast(tf.notEqual(mask, 0), 'float32'); // [N, M]
    const count = tf.sum(valid, 1); // [N]
    const total = tf.sum(tf.mul(conf, valid), 1); // [N]
    const mean = tf.div(total, tf.maximum(count, 1));
    return tf.where(tf.greater(count, 0), mean, tf.fill([n!], emptyValue)) as tf.Tensor1D;
  });
}
