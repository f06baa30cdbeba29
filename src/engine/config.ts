/**
 * The experiment configuration: one plain object, fully described here, validated with messages
 * that name the field, the value and what is allowed. Every random choice of a run derives from
 * `seed`.
 *
 * Checked against the catalogs only (plain data, no tfjs), so the page validates by itself.
 */
import { BUILTIN_DATASETS, type DatasetCatalog } from '../../datasets/catalog.ts';
import { isModelName, MODEL_CATALOG, MODEL_NAMES, type ModelName } from '../../models/catalog.ts';
import {
  isStrategyName, SIGNED_SCORE_STRATEGIES, STOCHASTIC_MODES, STRATEGY_CATALOG, STRATEGY_NAMES, type StochasticMode, type StrategyName,
} from '../acquisition/catalog.ts';
import { BACKEND_CHOICES, isBackendChoice, type BackendChoice } from '../backend/catalog.ts';
import { STOP_WHEN, type StopWhen } from './stopping.ts';

export interface ExperimentConfig {
  /** A dataset of the catalog the config is resolved against: a built-in one, or one described at run time. */
  dataset: string;
  model: ModelName;
  /** Strategies compared side by side; each runs `repeats` times. */
  strategies: StrategyName[];
  /** Size of the initial labeled set. */
  initial: number;
  /** Initial set balanced per class (initial / numClasses each) rather than drawn at random. */
  balanced: boolean;
  /** Labels queried per round. */
  query: number;
  /** Acquisition rounds after the initial training (a run has rounds + 1 evaluations). */
  rounds: number;
  repeats: number;
  /** Training epochs per round (at least; see `minSteps`). */
  epochs: number;
  /**
   * At least this many optimizer steps (batches) per round: a round trains
   * max(epochs, ceil(minSteps / ceil(labeled / batchSize))) epochs (`trainingEpochs`), so a small
   * labeled set gets enough updates to fit while a large one keeps `epochs`. 0 = `epochs` only.
   */
  minSteps: number;
  batchSize: number;
  /** Adam learning rate; null = the model's default. */
  learningRate: number | null;
  /** Score a fresh random subset of this many unlabeled rows per round (Gal et al. scored 2,000); null = the whole pool. */
  poolSubset: number | null;
  /** MC-dropout passes T for the strategies that need MC samples (bald, batchBald, ...). */
  mcSamples: number;
  /**
   * Members M of the committee for the query-by-committee strategies (voteEntropy,
   * consensusEntropy, maxDisagreement): each round, M models trained on the labeled set, each
   * from its own seeded initialisation and shuffles; at least 2 (one member cannot disagree).
   * Other strategies do not train a committee.
   */
  committee: number;
  /**
   * Stochastic batch acquisition (Kirsch et al. 2023): every scoring strategy draws its batch
   * from its scores, p ∝ s^β ('power'), exp(β s) ('softmax') or rank^-β ('softrank'), instead of
   * taking the top k; null = top-k. Set strategies (batchBald, coreset, ...) choose their batch
   * themselves and are unaffected.
   */
  stochastic: StochasticMode | null;
  /** The coldness β of `stochastic`, >= 0 (0: uniform; larger: closer to top-k). */
  stochasticBeta: number;
  /** Rows held out of the pool as a validation set (never queried). */
  validation: number;
  /** Evaluate on a fixed seeded subset of this many test rows; null = the whole test set. */
  testSubset: number | null;
  /** Accuracy for the "labels to target" summary, in (0, 1]. */
  target: number;
  /** Keep the weights between rounds instead of training from scratch (fresh seeded init) each round. */
  warmStart: boolean;
  /**
   * Temperature scaling: after each training, fit a temperature on the validation rows and score
   * with calibrated probabilities: single-pass probabilities and every MC-dropout pass.
   * Needs validation > 0.
   */
  calibrate: boolean;
  /** Rows per forward pass when predicting (fixed shape; the last chunk is padded). */
  chunkSize: number;
  seed: number;
  /**
   * Compute backend, or 'auto': in the page, the fastest on a short calibration of the chosen
   * model (cached per model and machine); in Node, wasm. Older links and results files wrote null
   * for the environment's default: `resolveConfig` reads it as 'auto'.
   */
  backend: BackendChoice;
  /**
   * The simulated oracle's error rate, in [0, 1): that fraction of its answers (drawn from its own
   * seeded stream) is a uniformly drawn other class instead of the dataset's label. 0: perfect.
   */
  oracleNoise: number;
  /**
   * Unlabeled rows in the stop set the stopping advice is computed on each round (`stopping.ts`),
   * drawn per repeat from the pool (at most the pool); 0: no advice.
   */
  stopSet: number;
  /** End each run when this stopping criterion holds (needs stopSet > 0), or 'never'. */
  stopWhen: StopWhen;
}

/**
 * `minSteps`'s default: 0, so existing configurations, presets and tests train as before (a
 * default of 300 would train a 20-label round 300 epochs instead of 10). See the README's "Fit
 * at every size" for `RECOMMENDED_MIN_STEPS`.
 */
export const MIN_STEPS_DEFAULT = 0;
/** The minSteps that fits logreg on `classification` within 3 points of scikit-learn at 20-100 labels (tests/node/models-fit.test.ts). */
export const RECOMMENDED_MIN_STEPS = 300;

export const DEFAULT_CONFIG: ExperimentConfig = {
  dataset: 'mnist',
  model: 'cnn',
  strategies: ['bald', 'entropy', 'margin', 'random'],
  initial: 20,
  balanced: true,
  query: 10,
  rounds: 10,
  repeats: 1,
  epochs: 10,
  minSteps: MIN_STEPS_DEFAULT,
  batchSize: 32,
  learningRate: null,
  poolSubset: 1000,
  mcSamples: 10,
  committee: 3,
  stochastic: null,
  stochasticBeta: 1,
  validation: 0,
  testSubset: 1000,
  target: 0.8,
  warmStart: false,
  calibrate: false,
  chunkSize: 256,
  seed: 1,
  backend: 'auto',
  oracleNoise: 0,
  stopSet: 2000,
  stopWhen: 'never',
};

/**
 * The epochs a round trains on `labeled` rows: `epochs`, or more where that would be fewer than
 * `minSteps` optimizer steps (ceil(labeled / batchSize) steps an epoch).
 */
export function trainingEpochs(labeled: number, config: Pick<ExperimentConfig, 'epochs' | 'batchSize' | 'minSteps'>): number {
  const perEpoch = Math.max(1, Math.ceil(labeled / config.batchSize));
  return Math.max(config.epochs, Math.ceil(config.minSteps / perEpoch));
}

/** A configuration value that is not allowed; the message names the field, the value and what is. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly allowed: string,
  ) {
    super(`config.${field} = ${show(value)} is not allowed: ${allowed}`);
  }
}

function show(v: unknown): string {
  if (typeof v === 'string') return `'${v}'`;
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  return String(v);
}

const KEYS = Object.keys(DEFAULT_CONFIG) as (keyof ExperimentConfig)[];

function int(field: keyof ExperimentConfig, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ConfigError(field, v, `an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}`);
  }
  return v;
}

export interface ResolveOptions {
  /** The datasets `dataset` may name; default the built-in ones (`withDataset` adds one described at run time). */
  datasets?: DatasetCatalog;
}

/**
 * Fills defaults and checks every field, including what can be checked against the catalogs
 * (dataset size and classes, model input kind) before any data is loaded.
 * @throws ConfigError naming the first bad field.
 */
export function resolveConfig(partial: Partial<ExperimentConfig> = {}, options: ResolveOptions = {}): ExperimentConfig {
  const datasets = options.datasets ?? BUILTIN_DATASETS;
  for (const k of Object.keys(partial)) {
    if (!KEYS.includes(k as keyof ExperimentConfig)) {
      throw new ConfigError(k, (partial as Record<string, unknown>)[k], `unknown field; known fields: ${KEYS.join(', ')}`);
    }
  }
  const c: ExperimentConfig = { ...DEFAULT_CONFIG, ...partial };
  const spec = typeof c.dataset === 'string' ? datasets.get(c.dataset) : undefined;
  if (!spec) throw new ConfigError('dataset', c.dataset, `one of ${[...datasets.keys()].join(', ')}`);
  if (typeof c.model !== 'string' || !isModelName(c.model)) throw new ConfigError('model', c.model, `one of ${MODEL_NAMES.join(', ')}`);
  if (!Array.isArray(c.strategies) || c.strategies.length === 0) {
    throw new ConfigError('strategies', c.strategies, `a non-empty list of ${STRATEGY_NAMES.join(', ')}`);
  }
  for (const s of c.strategies) {
    if (typeof s !== 'string' || !isStrategyName(s)) throw new ConfigError('strategies', s, `each one of ${STRATEGY_NAMES.join(', ')}`);
  }
  if (new Set(c.strategies).size !== c.strategies.length) throw new ConfigError('strategies', c.strategies, 'each strategy at most once');
  const model = MODEL_CATALOG[c.model];
  const inputKind = spec.kind === 'image' ? 'image' : 'vector';
  if (!(model.inputKinds as readonly string[]).includes(inputKind)) {
    throw new ConfigError('model', c.model, `a model for ${spec.kind} data (${c.dataset}); '${c.model}' takes ${model.inputKinds.join(' or ')} inputs`);
  }
  const mcStrategies = c.strategies.filter((s) => (STRATEGY_CATALOG[s].needs as readonly string[]).includes('mcSamples'));
  if (mcStrategies.length > 0 && !model.hasDropout) {
    throw new ConfigError('strategies', mcStrategies, `MC-dropout strategies need a model with dropout; '${c.model}' has none (use mlp or cnn)`);
  }
  int('initial', c.initial, 1, spec.sizes.train);
  if (typeof c.balanced !== 'boolean') throw new ConfigError('balanced', c.balanced, 'true or false');
  if (spec.unlabeled) {
    // No label is known before the oracle gives it: nothing may be drawn or simulated from labels.
    const why = `for ${c.dataset}, whose images have no labels (you label them in "Label it yourself")`;
    if (c.balanced) throw new ConfigError('balanced', c.balanced, `false ${why}: a balanced initial set needs labels`);
    if (c.validation !== 0) throw new ConfigError('validation', c.validation, `0 ${why}: validation rows need labels`);
    if (c.oracleNoise !== 0) throw new ConfigError('oracleNoise', c.oracleNoise, `0 ${why}: the simulated oracle answers from labels`);
  }
  if (c.balanced && c.initial < spec.numClasses) {
    throw new ConfigError('initial', c.initial, `at least the number of classes (${spec.numClasses}) when balanced is true`);
  }
  int('query', c.query, 1, spec.sizes.train);
  int('rounds', c.rounds, 0, 100_000);
  int('repeats', c.repeats, 1, 1000);
  int('epochs', c.epochs, 1, 10_000);
  int('minSteps', c.minSteps, 0, 1_000_000);
  int('batchSize', c.batchSize, 1, 4096);
  if (c.learningRate !== null && !(typeof c.learningRate === 'number' && c.learningRate > 0 && c.learningRate < 10)) {
    throw new ConfigError('learningRate', c.learningRate, 'null (the model default) or a number in (0, 10)');
  }
  if (c.poolSubset !== null) int('poolSubset', c.poolSubset, 1);
  int('mcSamples', c.mcSamples, 2, 1000);
  if (c.committee === 1) {
    throw new ConfigError('committee', c.committee, 'at least 2 members: a committee of one never disagrees with itself (vote entropy and KL disagreement are always 0)');
  }
  int('committee', c.committee, 2, 100);
  if (c.stochastic !== null && !(typeof c.stochastic === 'string' && (STOCHASTIC_MODES as readonly string[]).includes(c.stochastic))) {
    throw new ConfigError('stochastic', c.stochastic, `null (top-k) or one of ${STOCHASTIC_MODES.join(', ')}`);
  }
  if (!(typeof c.stochasticBeta === 'number' && Number.isFinite(c.stochasticBeta) && c.stochasticBeta >= 0)) {
    throw new ConfigError('stochasticBeta', c.stochasticBeta, 'a finite number >= 0 (0 samples uniformly; larger values come closer to top-k)');
  }
  const signed = c.strategies.filter((s) => SIGNED_SCORE_STRATEGIES.includes(s));
  if (c.stochastic === 'power' && signed.length > 0) {
    throw new ConfigError('stochastic', c.stochastic, `softmax or softrank with ${signed.join(', ')}: power sampling (p ∝ s^β) needs scores >= 0, and their scores are negated measures`);
  }
  int('validation', c.validation, 0, spec.sizes.train - 1);
  if (c.initial + c.validation > spec.sizes.train) {
    throw new ConfigError('initial', c.initial, `initial + validation at most the ${spec.sizes.train} training rows of ${c.dataset}`);
  }
  if (c.testSubset !== null) int('testSubset', c.testSubset, 1);
  if (!(typeof c.target === 'number' && c.target > 0 && c.target <= 1)) throw new ConfigError('target', c.target, 'a number in (0, 1]');
  if (typeof c.warmStart !== 'boolean') throw new ConfigError('warmStart', c.warmStart, 'true or false');
  if (typeof c.calibrate !== 'boolean') throw new ConfigError('calibrate', c.calibrate, 'true or false');
  if (c.calibrate && c.validation < 1) {
    throw new ConfigError('calibrate', c.calibrate, 'true only with validation rows to fit the temperature on (set validation, e.g. 100)');
  }
  int('chunkSize', c.chunkSize, 1, 8192);
  if (typeof c.seed !== 'number' || !Number.isFinite(c.seed)) throw new ConfigError('seed', c.seed, 'a finite number');
  // null: the environment's default in links and results files written before 'auto' existed.
  const backend: unknown = c.backend ?? 'auto';
  if (typeof backend !== 'string' || !isBackendChoice(backend)) throw new ConfigError('backend', c.backend, `one of ${BACKEND_CHOICES.join(', ')}`);
  if (typeof c.oracleNoise !== 'number' || !(c.oracleNoise >= 0 && c.oracleNoise < 1)) {
    throw new ConfigError('oracleNoise', c.oracleNoise, 'a number in [0, 1): the fraction of the simulated oracle\'s answers that are a wrong class');
  }
  int('stopSet', c.stopSet, 0); // at most the pool is used
  if (typeof c.stopWhen !== 'string' || !(STOP_WHEN as readonly string[]).includes(c.stopWhen)) throw new ConfigError('stopWhen', c.stopWhen, `one of ${STOP_WHEN.join(', ')}`);
  if (c.stopWhen !== 'never' && c.stopSet < 1) throw new ConfigError('stopWhen', c.stopWhen, "'never' when stopSet is 0 (the criteria are computed on the stop set)");
  return { ...c, backend, strategies: [...c.strategies] };
}
