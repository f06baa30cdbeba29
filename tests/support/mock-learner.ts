/**
 * A learner for loop tests that need no real model: every prediction derives from one
 * `probs(rows)` function ([N, C] probabilities, computed fresh each call), and the test says what
 * fitting records and what evaluation reports.
 */
import * as tf from '@tensorflow/tfjs';
import type { Learner } from '../../src/engine/learner.ts';

export interface MockLearnerParts {
  /** [N, C] probabilities of these rows (a new tensor each call). */
  probs: (rows: Int32Array) => tf.Tensor2D;
  numClasses: number;
  fit?: Learner['fit'];
  /** The reported test accuracy (default 0.5). */
  accuracy?: () => number;
  /** Predictions at grid inputs (default: softmax of the inputs tiled to C columns). */
  predictOn?: Learner['predictOn'];
  dispose?: () => void;
}

/** A `Learner` built on `parts.probs`: the logits, MC passes, embeddings and inputs are its probabilities. */
export function mockLearner(parts: MockLearnerParts): Learner {
  const { probs, numClasses: c } = parts;
  return {
    fit: parts.fit ?? (async () => undefined),
    predictProbs: probs,
    predictLogits: probs,
    predictMcLogits: (idx, t) => tf.tidy(() => tf.stack(Array.from({ length: t }, () => probs(idx))) as tf.Tensor3D),
    embed: probs,
    inputs: probs,
    predictOn: parts.predictOn ?? ((x) => tf.tidy(() => tf.softmax(tf.tile(x.reshape([-1, 1]), [1, c])) as tf.Tensor2D)),
    evaluate: async () => ({ accuracy: parts.accuracy?.() ?? 0.5, loss: 1, n: 4, numClasses: c, confusion: new Int32Array(c * c), ece: 0.1, calibratedEce: null }),
    dispose: parts.dispose ?? (() => undefined),
  };
}
