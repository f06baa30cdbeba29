/**
 * Strategies: a measure turned into informativeness, plus what it needs, as data.
 *
 * Convention: every scoring strategy returns **informativeness, higher = ask first**.
 * A measure where lower means more uncertain is negated (margin -> -margin,
 * variance -> -variance). The loop reads `needs` to decide what to compute (softmax
 * probabilities, MC-dropout samples, embeddings) and never asks which strategy it holds.
 *
 * A strategy that selects a set rather than scoring rows (diversity, batch-aware) has
 * `kind: 'set'` and a `select` method with the same inputs; `acquire` runs either kind.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../rng.ts';
import { SelectionError } from './errors.ts';
import { bald, entropy, leastConfidence, margin, meanStd, predictiveEntropy, ratio, variance, variationRatio } from './measures/index.ts';
import { checkK, exclusionMask, topKIndices, type SelectOptions } from './select.ts';
import { badgeStrategy } from './diversity/badge.ts';
import { coresetStrategy } from './diversity/coreset.ts';
import { kmeansDiversityStrategy } from './diversity/kmeans.ts';
import { marginDiverseStrategy } from './diversity/margin-diverse.ts';

/** What a strategy needs the loop to compute over the candidate rows. */
export type Need = 'probs' | 'mcSamples' | 'embeddings' | 'inputs' | 'labeledEmbeddings';

/** The inputs a strategy sees. Tensors are owned by the caller; a strategy never disposes them. */
export interface AcquisitionInputs {
  /** Number of candidate rows N. */
  n: number;
  /** [N, C] softmax probabilities, when the strategy needs 'probs'. */
  probs?: tf.Tensor2D;
  /** [T, N, C] MC-dropout probabilities, when it needs 'mcSamples'. */
  mcSamples?: tf.Tensor3D;
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

interface StrategyInfo {
  /** Registry key. */
  readonly name: string;
  /** Human label for the UI and tables. */
  readonly label: string;
  /** The formula as plain text, e.g. "H = -Σ p log p". */
  readonly formula: string;
  /** One line: what asking first by this score means. */
  readonly description: string;
  readonly needs: readonly Need[];
}

/** Scores each row; the selector takes the top k. */
export interface ScoringStrategy extends StrategyInfo {
  readonly kind: 'score';
  /** [N] informativeness, higher = ask first; the caller owns the tensor. */
  score(inputs: AcquisitionInputs): tf.Tensor1D;
}

/** Chooses a batch as a set (diversity, batch-aware strategies). */
export interface SetStrategy extends StrategyInfo {
  readonly kind: 'set';
  /** Up to k row indices, in the order they should be labeled. */
  select(inputs: AcquisitionInputs, k: number, options: SelectOptions): Promise<Int32Array>;
}

export type Strategy = ScoringStrategy | SetStrategy;

function need<K extends keyof AcquisitionInputs>(inputs: AcquisitionInputs, key: K, strategy: string): NonNullable<AcquisitionInputs[K]> {
  const v = inputs[key];
  if (v === undefined || v === null) {
    throw new SelectionError(`strategy '${strategy}' needs '${String(key)}' but the loop did not provide it`);
  }
  return v as NonNullable<AcquisitionInputs[K]>;
}

function scoring(
  name: string,
  label: string,
  formula: string,
  description: string,
  needs: readonly Need[],
  score: (inputs: AcquisitionInputs) => tf.Tensor1D,
): ScoringStrategy {
  return { kind: 'score', name, label, formula, description, needs, score };
}

const negate = (t: tf.Tensor1D): tf.Tensor1D => tf.tidy(() => tf.neg(t) as tf.Tensor1D);
const negated = (f: (x: tf.Tensor) => tf.Tensor1D) => (x: tf.Tensor) => {
  const m = f(x);
  const s = negate(m);
  m.dispose();
  return s;
};

export const STRATEGIES = {
  random: scoring('random', 'Random', 'u ~ U(0, 1)', 'Uniformly random rows: the baseline every strategy must beat.', [], (inp) => {
    const u = new Float32Array(inp.n);
    for (let i = 0; i < inp.n; i++) u[i] = inp.rng.next();
    return tf.tensor1d(u);
  }),
  entropy: scoring('entropy', 'Entropy', 'H = -Σ_c p_c log p_c', 'Asks where the whole predicted distribution is most spread out.', ['probs'], (inp) =>
    entropy(need(inp, 'probs', 'entropy')),
  ),
  margin: scoring('margin', 'Margin', '-(p(1) - p(2))', 'Asks where the top two classes are closest.', ['probs'], (inp) =>
    negated(margin)(need(inp, 'probs', 'margin')),
  ),
  leastConfidence: scoring('leastConfidence', 'Least confidence', '1 - p(1)', 'Asks where the most likely class is least likely.', ['probs'], (inp) =>
    leastConfidence(need(inp, 'probs', 'leastConfidence')),
  ),
  ratio: scoring('ratio', 'Ratio of confidence', 'p(2) / p(1)', 'Asks where the runner-up is nearly as likely as the winner.', ['probs'], (inp) =>
    ratio(need(inp, 'probs', 'ratio')),
  ),
  variance: scoring('variance', 'Variance', '-(1/C) Σ_c (p_c - 1/C)^2', 'Asks where the probabilities are flattest (lowest variance).', ['probs'], (inp) =>
    negated(variance)(need(inp, 'probs', 'variance')),
  ),
  predictiveEntropy: scoring('predictiveEntropy', 'Predictive entropy (MC dropout)', 'H[mean_t p_t]', 'Entropy of the mean of T dropout passes: total uncertainty.', ['mcSamples'], (inp) =>
    predictiveEntropy(need(inp, 'mcSamples', 'predictiveEntropy')),
  ),
  bald: scoring('bald', 'BALD (MC dropout)', 'H[mean_t p_t] - mean_t H[p_t]', 'Asks where dropout passes disagree: uncertainty about the model, not the data.', ['mcSamples'], (inp) =>
    bald(need(inp, 'mcSamples', 'bald')),
  ),
  variationRatio: scoring('variationRatio', 'Variation ratio (MC dropout)', '1 - (modal votes) / T', 'Asks where dropout passes vote for different classes.', ['mcSamples'], (inp) =>
    variationRatio(need(inp, 'mcSamples', 'variationRatio')),
  ),
  meanStd: scoring('meanStd', 'Mean std (MC dropout)', '(1/C) Σ_c std_t(p_c)', 'Asks where class probabilities vary most across dropout passes.', ['mcSamples'], (inp) =>
    meanStd(need(inp, 'mcSamples', 'meanStd')),
  ),
  // Set strategies (diversity, batch-aware): src/acquisition/diversity/.
  kmeansDiversity: kmeansDiversityStrategy({ source: 'embeddings' }),
  kmeansDiversityRaw: kmeansDiversityStrategy({ source: 'inputs' }),
  coreset: coresetStrategy(),
  badge: badgeStrategy(),
  marginDiverse: marginDiverseStrategy(),
} satisfies Record<string, Strategy>;

export type StrategyName = keyof typeof STRATEGIES;
export const STRATEGY_NAMES = Object.keys(STRATEGIES) as StrategyName[];

/** Thrown for a strategy name that is not in the registry; lists the known ones. */
export class UnknownStrategyError extends Error {
  override readonly name = 'UnknownStrategyError';
  constructor(readonly strategy: string) {
    super(`unknown strategy '${strategy}'; known strategies: ${STRATEGY_NAMES.join(', ')}`);
  }
}

export function isStrategyName(name: string): name is StrategyName {
  return Object.prototype.hasOwnProperty.call(STRATEGIES, name);
}

/** Looks a strategy up by name; an unknown name throws `UnknownStrategyError`. */
export function getStrategy(name: string): Strategy {
  if (!isStrategyName(name)) throw new UnknownStrategyError(name);
  return STRATEGIES[name];
}

export interface Acquisition {
  /** Chosen row indices, best first. */
  indices: Int32Array;
  /** The N informativeness scores read back (scoring strategies), for histograms; null for set strategies. */
  scores: Float32Array | null;
  /** Wall time: scoring (the kernel and reading the N scores back) and selecting, ms. */
  ms: { score: number; select: number };
}

/**
 * Runs a strategy of either kind and returns up to `k` row indices, best first.
 * For a scoring strategy it reads back the N scores once (kept for display) and selects
 * with the same rules as `selectTopK` (NaN and excluded rows never chosen, ties to the lower index).
 */
export async function acquire(strategy: Strategy, inputs: AcquisitionInputs, k: number, options: SelectOptions = {}): Promise<Acquisition> {
  checkK(k);
  if (strategy.kind === 'set') {
    const t0 = performance.now();
    const indices = await strategy.select(inputs, k, options);
    return { indices, scores: null, ms: { score: 0, select: performance.now() - t0 } };
  }
  const excluded = exclusionMask(options.exclude, inputs.n);
  const t0 = performance.now();
  const s = strategy.score(inputs);
  let values: Float32Array;
  try {
    if (s.rank !== 1 || s.shape[0] !== inputs.n) {
      throw new SelectionError(`strategy '${strategy.name}' returned shape [${s.shape.join(', ')}], expected [${inputs.n}]`);
    }
    values = (await s.data()) as Float32Array;
  } finally {
    s.dispose();
  }
  const t1 = performance.now();
  const indices = topKIndices(values, k, excluded);
  return { indices, scores: values, ms: { score: t1 - t0, select: performance.now() - t1 } };
}
