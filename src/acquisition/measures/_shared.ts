/**
 * Shared building blocks of the measures. Everything here is called inside the measures'
 * own `tf.tidy`, so intermediates are freed there.
 */
import * as tf from '@tensorflow/tfjs';
import { logFloor } from '../../backend/precision.ts';
import { InvalidProbabilitiesError } from '../errors.ts';

export interface MeasureOptions {
  /**
   * The input holds logits (pre-softmax scores). Probabilities are then taken with a
   * max-shifted softmax and log-probabilities with `logSoftmax`, so `log 0` never occurs.
   * @default false
   */
  fromLogits?: boolean;
}

/** Throws `InvalidProbabilitiesError` unless `x` has the given rank and at least `minClasses`. */
export function checkShape(x: tf.Tensor, rank: number, what: string, minClasses = 1): void {
  if (!(x instanceof tf.Tensor)) {
    throw new InvalidProbabilitiesError(`${what}: expected a tf.Tensor, got ${x === null ? 'null' : typeof x}`);
  }
  if (x.rank !== rank) {
    throw new InvalidProbabilitiesError(
      `${what}: expected a rank-${rank} tensor ${rank === 2 ? '[N, C]' : '[T, N, C]'}, got shape [${x.shape.join(', ')}]`,
    );
  }
  const c = x.shape[rank - 1]!;
  if (c < minClasses) {
    throw new InvalidProbabilitiesError(
      `${what}: needs at least ${minClasses} classes on the last axis, got shape [${x.shape.join(', ')}]`,
    );
  }
  if (x.dtype !== 'float32') {
    throw new InvalidProbabilitiesError(`${what}: expected dtype float32, got ${x.dtype}`);
  }
}

/** Probabilities along the last axis: `x` itself, or softmax(x) for logits. */
export function probsOf(x: tf.Tensor, fromLogits: boolean | undefined): tf.Tensor {
  return fromLogits ? tf.softmax(x, -1) : x;
}

/**
 * Shannon entropy in nats along the last axis: -sum p log p with 0 log 0 = 0.
 * From probabilities, p log p is taken as p * log(max(p, floor)): a zero entry contributes
 * 0 * log(floor) = 0 exactly (a one-hot row gives exactly 0, never NaN), and any p >= floor is
 * exact. The floor is `logFloor()` (1e-30 on float32 backends, 1e-4 where textures are float16);
 * entries below it contribute under p * 70 nats, far below float32 resolution. This costs one
 * cheap op where a select would cost three.
 * From logits, H = -sum softmax(z) * logSoftmax(z), which never takes log 0.
 */
export function entropyNats(x: tf.Tensor, fromLogits: boolean | undefined): tf.Tensor {
  let plogp: tf.Tensor;
  if (fromLogits) {
    const logp = tf.logSoftmax(x, -1);
    plogp = tf.mul(tf.exp(logp), logp);
  } else {
    plogp = tf.mul(x, tf.log(tf.maximum(x, logFloor())));
  }
  // 0 - sum (not neg): a certain row gives +0, not -0.
  return tf.sub(0, tf.sum(plogp, -1));
}
