/**
 * The shapes of a strategy: the inputs it sees and the two kinds (scoring, set). A strategy is
 * its catalog entry (`catalog.ts`: plain data) plus `score` or `select`. Types only.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng.ts';
import type { StrategyDescription } from './catalog.ts';
import type { SelectOptions } from './select.ts';

/** The inputs a strategy sees. Tensors are owned by the caller; a strategy never disposes them. */
export interface AcquisitionInputs {
  /** Number of candidate rows N. */
  n: number;
  /** [N, C] softmax probabilities, when the strategy needs 'probs'. */
  probs?: tf.Tensor2D;
  /**
   * [T, N, C] MC-dropout logits (pre-softmax; temperature-scaled once calibrated), when it needs
   * 'mcSamples'. Logits, not probabilities: float16 textures cannot hold a small probability, and
   * the measures take log-probabilities from logits exactly (log-softmax).
   */
  mcLogits?: tf.Tensor3D;
  /**
   * [M, N, C] probabilities of the M committee members (each trained on the labeled set from its
   * own seed), when it needs 'committee'.
   */
  committee?: tf.Tensor3D;
  /** [N, D] model embeddings (penultimate activations), when it needs 'embeddings'. */
  embeddings?: tf.Tensor2D;
  /** [N, D] raw inputs, flattened, when it needs 'inputs' (model-free strategies). */
  inputs?: tf.Tensor2D;
  /**
   * [L, D] embeddings of the labeled set (same model, same D as `embeddings`), when it needs
   * 'labeledEmbeddings' (coreset). [0, D] when nothing is labeled yet.
   */
  labeledEmbeddings?: tf.Tensor2D;
  /**
   * Number of classes C of the task, optional: clustering strategies use it as their cluster
   * count when they have no `probs` to read C from (else their default, 10).
   */
  numClasses?: number;
  /** This strategy's own seeded stream. */
  rng: Rng;
}

/** Scores each row; the selector takes the top k. */
export interface ScoringStrategy extends StrategyDescription {
  readonly kind: 'score';
  /** [N] informativeness, higher = ask first; the caller owns the tensor. */
  score(inputs: AcquisitionInputs): tf.Tensor1D;
}

/** Chooses a batch as a set (diversity, batch-aware strategies). */
export interface SetStrategy extends StrategyDescription {
  readonly kind: 'set';
  /** Up to k row indices, in the order they should be labeled. */
  select(inputs: AcquisitionInputs, k: number, options: SelectOptions): Promise<Int32Array>;
}

export type Strategy = ScoringStrategy | SetStrategy;

