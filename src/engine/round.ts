/**
 * One round of one run: after round 0, pick candidates, gather what the strategy needs, score and
 * select, and let the simulated oracle label the batch; then train on the labeled set, fit the
 * temperature (with `calibrate`), evaluate on the test rows, and predict the grid.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../datasets/index.ts';
import { fitTemperature } from '../acquisition/calibration.ts';
import { acquire, type Strategy } from '../acquisition/strategies.ts';
import { trainingEpochs, type ExperimentConfig } from './config.ts';
import type { Where } from './events.ts';
import { disposeInputs, gatherInputs } from './inputs.ts';
import type { Learner } from './learner.ts';
import type { Pool, RepeatSplit } from './pool.ts';
import type { Reporter } from './reporter.ts';
import type { RoundRecord } from './results.ts';
import { asPoolPositions, rowsAt, type DatasetRows } from './rows.ts';
import { roundStream, strategyStream } from './streams.ts';

/** What every step of one run (one strategy in one repeat) works with. */
export interface RunScope {
  readonly config: ExperimentConfig;
  readonly dataset: Dataset<string>;
  readonly strategy: Strategy;
  readonly strategyName: string;
  readonly repeat: number;
  readonly split: RepeatSplit;
  readonly learner: Learner;
  /** A fresh learner of the run's kind (committee members). */
  readonly newLearner: () => Learner;
  readonly report: Reporter;
  /** `RunOptions.grid`. */
  readonly grid: Float32Array | undefined;
}

export const where = (scope: RunScope, round: number): Where => ({ strategy: scope.strategyName, repeat: scope.repeat, round });

/** A round's query: the rows chosen, their scores, every candidate's scores, and the times. */
export interface Query {
  selected: DatasetRows;
  selectedScores: number[] | null;
  scores: Float32Array | null;
  ms: { predict: number; score: number; select: number };
}

/** What a round produced: its record, the temperature for the next round, and what the round event adds. */
export interface RoundOutcome {
  record: RoundRecord;
  temperature: number | null;
  scores: Float32Array | null;
  confusion: number[];
  grid: { predicted: Uint8Array; confidence: Float32Array } | null;
}

/**
 * Plays round `round` on `pool` (labeling its query); `temperature` is the one fitted after the
 * previous round. Returns null when the pool is exhausted before the round could query.
 */
export async function playRound(scope: RunScope, pool: Pool, round: number, temperature: number | null): Promise<RoundOutcome | null> {
  let query: Query | null = null;
  if (round > 0) {
    query = await queryRound(scope, pool, round, temperature);
    if (!query) return null;
    // The simulated oracle reveals the labels: they join the labeled set.
    pool.label(query.selected, round);
  }
  const { config, learner, report } = scope;
  await report.phase('train', where(scope, round));
  const tt = performance.now();
  const labeled = pool.labeled();
  await train(scope, labeled, round);
  const trainMs = performance.now() - tt;

  await report.phase('evaluate', where(scope, round));
  const te = performance.now();
  let calibration: RoundRecord['calibration'] = null;
  if (config.calibrate) {
    const fit = await calibrate(scope);
    temperature = fit.temperature;
    calibration = { temperature: fit.temperature, ece: Number.NaN, validationNll: { before: fit.nllBefore, after: fit.nllAfter } };
  }
  const ev = await learner.evaluate(temperature ?? undefined);
  if (calibration) calibration.ece = ev.calibratedEce ?? Number.NaN;
  const evaluateMs = performance.now() - te;
  const grid = scope.grid ? await gridPredictions(learner, scope.grid, scope.dataset.shape) : null;

  const classCounts = new Array<number>(scope.dataset.numClasses).fill(0);
  for (const i of labeled) classCounts[scope.dataset.train.y[i]!]!++;
  const acq = query?.ms ?? { predict: 0, score: 0, select: 0 };
  const record: RoundRecord = {
    round,
    labeled: labeled.length,
    accuracy: ev.accuracy,
    loss: ev.loss,
    ece: ev.ece,
    calibration,
    classCounts,
    selected: Array.from(query?.selected ?? scope.split.initial),
    selectedScores: query?.selectedScores ?? null,
    ms: { train: trainMs, ...acq, evaluate: evaluateMs },
  };
  return { record, temperature, scores: query?.scores ?? null, confusion: Array.from(ev.confusion), grid };
}

/**
 * Chooses round `round`'s batch: the unlabeled pool (or a seeded subset of it), scored and
 * selected by the strategy. Null when the pool is empty (after a warning).
 */
async function queryRound(scope: RunScope, pool: Pool, round: number, temperature: number | null): Promise<Query | null> {
  const { config, report } = scope;
  let candidates = pool.unlabeled();
  if (candidates.length === 0) {
    await report.emit({ type: 'warning', message: `the pool is exhausted after round ${round - 1}: the run ends with its results`, ...where(scope, round) });
    return null;
  }
  if (config.poolSubset !== null && candidates.length > config.poolSubset) {
    const pick = asPoolPositions(roundStream(config.seed, scope.repeat, round, 'pool-subset').sample(candidates.length, config.poolSubset).sort());
    candidates = rowsAt(candidates, pick);
  }
  let k = config.query;
  if (k > candidates.length) {
    await report.emit({ type: 'warning', message: `query size ${k} is larger than the ${candidates.length} rows left: querying ${candidates.length}`, ...where(scope, round) });
    k = candidates.length;
  }
  await report.phase('predict', where(scope, round));
  const tp = performance.now();
  const inputs = await gatherInputs(scope.strategy.needs, {
    learner: scope.learner,
    candidates,
    labeled: () => pool.labeled(),
    numClasses: scope.dataset.numClasses,
    temperature,
    mcSamples: config.mcSamples,
    mcRng: () => roundStream(config.seed, scope.repeat, round, 'mc-dropout'),
    rng: strategyStream(config.seed, scope.repeat, scope.strategyName, round),
    round,
    committee: { members: config.committee, train: (m) => trainMember(scope, pool.labeled(), round, m) },
  });
  try {
    const predictMs = performance.now() - tp;
    await report.phase('score', where(scope, round));
    const stochastic = config.stochastic === null ? null : { mode: config.stochastic, beta: config.stochasticBeta };
    const acq = await acquire(scope.strategy, inputs, k, { stochastic });
    await report.phase('select', where(scope, round));
    const chosen = asPoolPositions(acq.indices); // a strategy selects positions in the candidate list
    return {
      selected: rowsAt(candidates, chosen),
      selectedScores: acq.scores ? Array.from(acq.indices, (j) => acq.scores![j]!) : null,
      scores: acq.scores,
      ms: { predict: predictMs, score: acq.ms.score, select: acq.ms.select },
    };
  } finally {
    disposeInputs(inputs);
  }
}

/** Trains the run's learner on `labeled` with round `round`'s stream; a pause takes effect between epochs too. */
export async function train(scope: RunScope, labeled: DatasetRows, round: number): Promise<void> {
  const { config, report } = scope;
  await scope.learner.fit(labeled, {
    rng: roundStream(config.seed, scope.repeat, round, 'train'),
    ...(report.signal ? { signal: report.signal } : {}),
    onEpoch: async (log) => {
      await report.emit({ type: 'epoch', epoch: log.epoch, epochs: trainingEpochs(labeled.length, config), loss: log.loss, acc: log.acc, ...where(scope, round) });
      await report.pausePoint(); // between epochs, not only between phases
    },
  });
}

/**
 * Committee member `member` (>= 1) of round `round`'s query: a fresh learner trained from scratch
 * on `labeled`, its initialisation and shuffles from the stream (repeat, round, 'committee:m').
 * No epoch events: it trains inside the round's predict phase. Disposed by the caller.
 */
async function trainMember(scope: RunScope, labeled: DatasetRows, round: number, member: number): Promise<Learner> {
  const { config, report } = scope;
  const learner = scope.newLearner();
  try {
    await learner.fit(labeled, {
      rng: roundStream(config.seed, scope.repeat, round, `committee:${member}`),
      ...(report.signal ? { signal: report.signal } : {}),
      onEpoch: () => report.pausePoint(),
    });
    return learner;
  } catch (err) {
    learner.dispose();
    throw err;
  }
}

/** Fits the temperature of the freshly trained model on the repeat's validation rows. */
async function calibrate(scope: RunScope) {
  const logits = scope.learner.predictLogits(scope.split.validationRows);
  return fitTemperature(logits, scope.split.validationLabels, { fromLogits: true }).finally(() => logits.dispose());
}

/** The predicted class and its probability at each of the G grid inputs (reads back 2G numbers). */
async function gridPredictions(learner: Learner, grid: Float32Array, shape: readonly number[]): Promise<{ predicted: Uint8Array; confidence: Float32Array }> {
  const d = shape.reduce((a, b) => a * b, 1);
  if (grid.length % d !== 0) throw new RangeError(`grid has ${grid.length} values, not a multiple of the example size ${d}`);
  const g = grid.length / d;
  const x = tf.tensor(grid, [g, ...shape]);
  const probs = learner.predictOn(x);
  x.dispose();
  const [cls, conf] = tf.tidy(() => [tf.argMax(probs, -1), tf.max(probs, -1)]);
  probs.dispose();
  const [c, p] = await Promise.all([cls!.data(), conf!.data()]);
  cls!.dispose();
  conf!.dispose();
  return { predicted: Uint8Array.from(c), confidence: Float32Array.from(p) };
}
