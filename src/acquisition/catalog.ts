/**
 * What each strategy is, as plain data: label, formula, description, what it needs the loop to
 * compute, and its kind. No tfjs: `resolveConfig`, the CLI's flags and the page read this module;
 * `strategies.ts` and `diversity/*` register an implementation (`score` or `select`) against
 * each entry.
 */

/**
 * What a strategy needs the loop to compute over the candidate rows. 'committee': the [M, N, C]
 * probabilities of `config.committee` members, each trained on the labeled set from its own seed.
 * 'jointMcSamples' (with 'mcSamples'): the MC-dropout passes are consistent, pass t one weight
 * sample ω_t for every row (one dropout mask shared by the rows), as joint predictions of several
 * rows need; otherwise each row draws its own masks.
 */
export type Need = 'probs' | 'mcSamples' | 'jointMcSamples' | 'embeddings' | 'inputs' | 'labeledEmbeddings' | 'committee';

/** `'score'`: scores each row, the selector takes the top k. `'set'`: chooses a batch as a set. */
export type StrategyKind = 'score' | 'set';

export interface StrategyDescription {
  /** Registry key. */
  readonly name: string;
  /** Human label for the UI and tables. */
  readonly label: string;
  /** The formula as plain text, e.g. "H = -Σ p log p". */
  readonly formula: string;
  /** One line: what asking first by this score means. */
  readonly description: string;
  readonly needs: readonly Need[];
  readonly kind: StrategyKind;
}

/** How many of the smallest margins marginDiverse clusters, as a multiple of k. @default 10 */
export const MARGIN_DIVERSE_BETA = 10;

/** marginDiverse's formula for a shortlist of `beta` k rows. */
export const marginDiverseFormula = (beta: number) => `k-means (K = k) on the ${beta}k smallest margins p(1) - p(2); nearest to each centroid`;

function entry<K extends StrategyKind, N extends string>(kind: K, name: N, label: string, formula: string, description: string, needs: readonly Need[]) {
  const d: StrategyDescription & { readonly kind: K; readonly name: N } = { name, label, formula, description, needs, kind };
  return d;
}

const kmeansFormula = 'k-means, K = C; round-robin over clusters, nearest to centroid first';

/** The registered strategies, by name, in the order the tables list them. */
export const STRATEGY_CATALOG = {
  random: entry('score', 'random', 'Random', 'u ~ U(0, 1)', 'Uniformly random rows: the baseline every strategy must beat.', []),
  entropy: entry('score', 'entropy', 'Entropy', 'H = -Σ_c p_c log p_c', 'Asks where the whole predicted distribution is most spread out.', ['probs']),
  margin: entry('score', 'margin', 'Margin', '-(p(1) - p(2))', 'Asks where the top two classes are closest.', ['probs']),
  leastConfidence: entry('score', 'leastConfidence', 'Least confidence', '1 - p(1)', 'Asks where the most likely class is least likely.', ['probs']),
  ratio: entry('score', 'ratio', 'Ratio of confidence', 'p(2) / p(1)', 'Asks where the runner-up is nearly as likely as the winner.', ['probs']),
  variance: entry('score', 'variance', 'Variance', '-(1/C) Σ_c (p_c - 1/C)^2', 'Asks where the probabilities are flattest (lowest variance).', ['probs']),
  predictiveEntropy: entry('score', 'predictiveEntropy', 'Predictive entropy (MC dropout)', 'H[mean_t p_t]', 'Entropy of the mean of T dropout passes: total uncertainty.', ['mcSamples']),
  bald: entry('score', 'bald', 'BALD (MC dropout)', 'H[mean_t p_t] - mean_t H[p_t]', 'Asks where dropout passes disagree: uncertainty about the model, not the data.', ['mcSamples']),
  variationRatio: entry('score', 'variationRatio', 'Variation ratio (MC dropout)', '1 - (modal votes) / T', 'Asks where dropout passes vote for different classes.', ['mcSamples']),
  meanStd: entry('score', 'meanStd', 'Mean std (MC dropout)', '(1/C) Σ_c std_t(p_c)', 'Asks where class probabilities vary most across dropout passes.', ['mcSamples']),
  // Query by committee (Settles 2009, section 3.3; modAL's disagreement module): src/acquisition/committee.ts.
  voteEntropy: entry('score', 'voteEntropy', 'Vote entropy (committee)', '-Σ_c (V_c / M) log (V_c / M)',
    "Asks where the committee's members vote for different classes.", ['committee']),
  consensusEntropy: entry('score', 'consensusEntropy', 'Consensus entropy (committee)', 'H[(1/M) Σ_m p_m]',
    "Entropy of the committee's mean probabilities: where the consensus is least sure.", ['committee']),
  maxDisagreement: entry('score', 'maxDisagreement', 'KL disagreement (committee)', '(1/M) Σ_m KL(p_m || mean_m p_m)',
    'Asks where the members are farthest, on average, from the consensus.', ['committee']),
  // Set strategies (diversity, batch-aware): implemented in src/acquisition/diversity/.
  kmeansDiversity: entry('set', 'kmeansDiversity', 'k-means diversity', kmeansFormula,
    'Clusters the pool in embedding space, one cluster per class, and asks the most central row of each cluster in turn.', ['embeddings']),
  kmeansDiversityRaw: entry('set', 'kmeansDiversityRaw', 'k-means diversity (raw inputs)', kmeansFormula,
    'Clusters the raw inputs, one cluster per class, and asks the most central row of each cluster in turn; needs no model.', ['inputs']),
  coreset: entry('set', 'coreset', 'Core-set (greedy k-center)', 'argmax_i min_{j in labeled ∪ picked} ||h_i - h_j||, k times',
    'Asks the row farthest in embedding space from everything labeled or already picked, so the batch covers the pool.', ['embeddings', 'labeledEmbeddings']),
  badge: entry('set', 'badge', 'BADGE', 'k-means++ seeding on g = (p - e_argmax p) ⊗ h',
    'Samples rows whose last-layer gradient embeddings are both large (uncertain) and far apart (diverse).', ['probs', 'embeddings']),
  marginDiverse: entry('set', 'marginDiverse', 'Margin + diversity', marginDiverseFormula(MARGIN_DIVERSE_BETA),
    'Shortlists the most uncertain rows by margin, then asks one representative per cluster of them, so the batch has no near-duplicates.', ['probs', 'embeddings']),
  batchBald: entry('set', 'batchBald', 'BatchBALD (MC dropout)', 'greedy argmax_b I[y_1..y_n, y_b; w], n = 0..k-1',
    'Picks the batch whose joint labels say most about the model: BALD that counts what earlier picks of the batch already tell.', ['mcSamples', 'jointMcSamples']),
} as const satisfies Record<string, StrategyDescription>;

export type StrategyName = keyof typeof STRATEGY_CATALOG;

/**
 * Scoring strategies whose scores can be negative (a negated measure), so power sampling
 * (p ∝ s^β, needs s >= 0) does not apply to them; softmax and softrank do.
 */
export const SIGNED_SCORE_STRATEGIES: readonly StrategyName[] = ['margin', 'variance'];

/** Stochastic batch acquisition modes (`batch/stochastic.ts`, Kirsch et al. 2023). */
export const STOCHASTIC_MODES = ['power', 'softmax', 'softrank'] as const;
export type StochasticMode = (typeof STOCHASTIC_MODES)[number];
export const STRATEGY_NAMES = Object.keys(STRATEGY_CATALOG) as StrategyName[];

export function isStrategyName(name: string): name is StrategyName {
  return Object.hasOwn(STRATEGY_CATALOG, name);
}
