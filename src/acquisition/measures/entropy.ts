import * as tf from '@tensorflow/tfjs';
import { checkShape, entropyNats, type MeasureOptions } from './_shared.ts';

export interface EntropyOptions extends MeasureOptions {
  /** Logarithm base: e (nats) by default, 2 for bits. @default Math.E */
  base?: number;
}

/**
 * Entropy of each row (seed 000): H(p) = -sum_c p_c log p_c, with 0 log 0 = 0.
 * Higher = more uncertain. Nats by default; `{base: 2}` gives bits.
 *
 * @param probs [N, C] probabilities (or logits with `{fromLogits: true}`)
 * @returns [N] entropies; the caller owns (and disposes) the tensor.
 * @example
 *   entropy(tf.tensor2d([[0.5, 0.5], [1, 0]]), {base: 2})  // [1, 0]
 */
export function entropy(probs: tf.Tensor, options: EntropyOptions = {}): tf.Tensor1D {
  const base = options.base ?? Math.E;
  if (!(base > 0 && base !== 1 && Number.isFinite(base))) {
    throw new RangeError(`entropy: base must be a positive finite number other than 1, got ${base}`);
  }
  checkShape(probs, 2, 'entropy');
  return tf.tidy(() => {
    const h = entropyNats(probs, options.fromLogits); // [N, C] -> [N]
    return (base === Math.E ? h : tf.div(h, Math.log(base))) as tf.Tensor1D;
  });
}
