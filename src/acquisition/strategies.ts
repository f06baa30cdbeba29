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
import { isStrategyName, STRATEGY_CATALOG, STRATEGY_NAMES, type Need, type StrategyName } from './catalog.ts';
import { SelectionError } from './errors.ts';
import { bald, entropy, leastConfidence, margin, meanStd, predictiveEntropy, ratio, variance, variationRatio } from './measures/index.ts';
import { checkK, exclusionMask, topKIndices, type SelectOptions } from './select.ts';
import { badgeStrategy } from './diversity/badge.ts';
import { coresetStrategy } from './diversity/coreset.ts';
import { kmeansDiversityStrategy } from './diversity/kmeans.ts';
import { marginDiverseStrategy } from './diversity/margin-diverse.ts';
import { batchBald } from './batch/batch-bald.ts';
import { stochasticIndices, type StochasticMode } from './batch/stochastic.ts';
import { consensusEntropy, maxDisagreement, voteEntropy } from './committee.ts';
import type { AcquisitionInputs, ScoringStrategy, SetStrategy, Strategy } from './types.ts';

export { isStrategyName, STRATEGY_NAMES };
export type { StochasticMode };
export type { AcquisitionInputs, Need, ScoringStrategy, SetStrategy, Strategy, StrategyName };

function need<K extends keyof AcquisitionInputs>(inputs: AcquisitionInputs, key: K, strategy: string): NonNullable<AcquisitionInputs[K]> {
  const v = inputs[key];
  if (v === undefined || v === null) {
    throw new SelectionError(`strategy '${strategy}' needs '${String(key)}' but the loop did not provide it`);
  }
  return v as NonNullable<AcquisitionInputs[K]>;
}

/** The scoring strategy of catalog entry `name`, with its implementation. */
function scoring(name: ScoringName, score: (inputs: AcquisitionInputs) => tf.Tensor1D): ScoringStrategy {
  return { ...STRATEGY_CATALOG[name], score };
}

type ScoringName = { [N in StrategyName]: (typeof STRATEGY_CATALOG)[N]['kind'] extends 'score' ? N : never }[StrategyName];

const negate = (t: tf.Tensor1D): tf.Tensor1D => tf.tidy(() => tf.neg(t) as tf.Tensor1D);
const negated = (f: (x: tf.Tensor) => tf.Tensor1D) => (x: tf.Tensor) => {
  const m = f(x);
  const s = negate(m);
  m.dispose();
  return s;
};

const FROM_LOGITS = { fromLogits: true } as const;

export const STRATEGIES = {
  random: scoring('random', (inp) => {
    const u = new Float32Array(inp.n);
    for (let i = 0; i < inp.n; i++) u[i] = inp.rng.next();
    return tf.tensor1d(u);
  }),
  entropy: scoring('entropy', (inp) =>
    entropy(need(inp, 'probs', 'entropy')),
  ),
  margin: scoring('margin', (inp) =>
    negated(margin)(need(inp, 'probs', 'margin')),
  ),
  leastConfidence: scoring('leastConfidence', (inp) =>
    leastConfidence(need(inp, 'probs', 'leastConfidence')),
  ),
  ratio: scoring('ratio', (inp) =>
    ratio(need(inp, 'probs', 'ratio')),
  ),
  variance: scoring('variance', (inp) =>
    negated(variance)(need(inp, 'probs', 'variance')),
  ),
  predictiveEntropy: scoring('predictiveEntropy', (inp) =>
    predictiveEntropy(need(inp, 'mcLogits', 'predictiveEntropy'), FROM_LOGITS),
  ),
  bald: scoring('bald', (inp) =>
    bald(need(inp, 'mcLogits', 'bald'), FROM_LOGITS),
  ),
  variationRatio: scoring('variationRatio', (inp) =>
    variationRatio(need(inp, 'mcLogits', 'variationRatio'), FROM_LOGITS),
  ),
  meanStd: scoring('meanStd', (inp) =>
    meanStd(need(inp, 'mcLogits', 'meanStd'), FROM_LOGITS),
  ),
  voteEntropy: scoring('voteEntropy', (inp) =>
    voteEntropy(need(inp, 'committee', 'voteEntropy')),
  ),
  consensusEntropy: scoring('consensusEntropy', (inp) =>
    consensusEntropy(need(inp, 'committee', 'consensusEntropy')),
  ),
  maxDisagreement: scoring('maxDisagreement', (inp) =>
    maxDisagreement(need(inp, 'committee', 'maxDisagreement')),
  ),
  kmeansDiversity: kmeansDiversityStrategy({ source: 'embeddings' }),
  kmeansDiversityRaw: kmeansDiversityStrategy({ source: 'inputs' }),
  coreset: coresetStrategy(),
  badge: badgeStrategy(),
  marginDiverse: marginDiverseStrategy(),
  batchBald: {
    ...STRATEGY_CATALOG.batchBald,
    async select(inp, k, options) {
      const mask = exclusionMask(options.exclude, inp.n);
      // The sampled estimator's draws (beyond C^n = 65,536 joint configurations) from the strategy's stream.
      const { indices } = await batchBald(need(inp, 'mcLogits', 'batchBald'), k, { rng: inp.rng.fork('batchBald'), exclude: mask, fromLogits: true });
      return indices;
    },
  },
} satisfies Record<StrategyName, Strategy>;

/** Thrown for a strategy name that is not in the registry; lists the known ones. */
export class UnknownStrategyError extends Error {
  override readonly name = 'UnknownStrategyError';
  constructor(readonly strategy: string) {
    super(`unknown strategy '${strategy}'; known strategies: ${STRATEGY_NAMES.join(', ')}`);
  }
}

/** Looks a strategy up by name; an unknown name throws `UnknownStrategyError`. */
export function getStrategy(name: string): Strategy {
  if (!isStrategyName(name)) throw new UnknownStrategyError(name);
  return STRATEGIES[name];
}

/**
 * Stochastic batch acquisition (Kirsch et al. 2023, `batch/stochastic.ts`): a scoring strategy's
 * batch is drawn without replacement with p ∝ s^β (power), exp(β s) (softmax) or rank^-β
 * (softrank) instead of taken top-k. Set strategies choose their batch themselves and ignore it.
 */
export interface StochasticChoice {
  mode: StochasticMode;
  beta: number;
}

export interface AcquireOptions extends SelectOptions {
  /** Sample a scoring strategy's batch instead of taking its top k; null or absent = top-k. */
  stochastic?: StochasticChoice | null;
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
 * with the same rules as `selectTopK` (NaN and excluded rows never chosen, ties to the lower index),
 * or, with `options.stochastic`, draws the batch from the scores with the draws from
 * `inputs.rng.fork('stochastic')` (the strategy's own stream).
 */
export async function acquire(strategy: Strategy, inputs: AcquisitionInputs, k: number, options: AcquireOptions = {}): Promise<Acquisition> {
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
  const sto = options.stochastic ?? null;
  const indices = sto === null
    ? topKIndices(values, k, excluded)
    : stochasticIndices(values, k, { mode: sto.mode, beta: sto.beta, rng: inputs.rng.fork('stochastic'), exclude: excluded ?? undefined });
  return { indices, scores: values, ms: { score: t1 - t0, select: performance.now() - t1 } };
}
