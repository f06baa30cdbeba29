/**
 * One round of one run: after round 0, pick candidates, gather what the strategy needs, score and
 * select, and ask the oracle (`oracle.ts`) to label the batch; then train on the labeled set, fit the
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
import { addedRecord, takesAdded } from './added.ts';
import { askOracle, OracleError, type AddedExample, type Oracle } from './oracle.ts';
import { largestUncertainty, stopSetSummary } from './stop-set.ts';
import { cohenKappa, STOPPING, type StopRecord } from './stopping.ts';
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
  /** Labels each round's query (`RunOptions.oracle`, or the simulated one). */
  readonly oracle: Oracle;
}

/** The values of one example when the dataset takes added examples (uint8 images), else null. */
export function addedRowSize(dataset: Dataset<string>): number | null {
  return takesAdded(dataset.kind) && dataset.train.x instanceof Uint8Array ? dataset.shape.reduce((a, b) => a * b, 1) : null;
}

export const where = (scope: RunScope, round: number): Where => ({ strategy: scope.strategyName, repeat: scope.repeat, round });

/** A round's query: the rows chosen, their scores, every candidate's scores, and the times. */
export interface Query {
  selected: DatasetRows;
  /** The oracle's answers for `selected`, in its order (-1: skipped); set once the oracle answered. */
  labels?: Int32Array;
  /** The examples the oracle's answer added (not dataset rows); set once the oracle answered. */
  added?: AddedExample[];
  selectedScores: number[] | null;
  scores: Float32Array | null;
  /** With a stop set: the largest normalised entropy among `selected` under the model that chose them. */
  maxConfidence: number | null;
  ms: { predict: number; score: number; select: number };
}

/** What a round produced: its record, the temperature for the next round, and what the round event adds. */
export interface RoundOutcome {
  record: RoundRecord;
  temperature: number | null;
  /** The stop set's predicted classes under this round's model (for the next round's kappa); null without a stop set. */
  stopPredictions: Int32Array | null;
  scores: Float32Array | null;
  confusion: number[];
  grid: { predicted: Uint8Array; confidence: Float32Array } | null;
}

/** What the previous round left for this one: its temperature and its stop-set predictions. */
export interface Previous {
  temperature: number | null;
  stopPredictions: Int32Array | null;
}

/**
 * Plays round `round` on `pool` (labeling its query) after `previous`. Returns null when the pool
 * is exhausted before the round could query, and `{ stop }` when `config.stopWhen` is
 * 'max-confidence' and the query shows it holds (before the oracle is asked).
 */
export async function playRound(scope: RunScope, pool: Pool, round: number, previous: Previous): Promise<RoundOutcome | { stop: StopRecord } | null> {
  let { temperature } = previous;
  let query: Query | null = null;
  const unlabeled = scope.dataset.unlabeled === true;
  if (round === 0 && unlabeled) query = await labelInitial(scope, pool);
  if (round > 0) {
    query = await queryRound(scope, pool, round, temperature);
    if (!query) return null;
    if (scope.config.stopWhen === 'max-confidence' && query.maxConfidence !== null && query.maxConfidence < STOPPING.maxConfidence) {
      return { stop: { criterion: 'max-confidence', round: round - 1 } };
    }
    // The oracle labels the batch: its labels join the labeled set, its skips leave the pool.
    const answer = await askOracle(scope.oracle, { strategy: scope.strategyName, repeat: scope.repeat, round, indices: Int32Array.from(query.selected) }, scope.dataset.numClasses, addedRowSize(scope.dataset));
    query.labels = answer.labels;
    query.added = answer.added;
    pool.label(query.selected, round, query.labels);
    // Examples that are not dataset rows (a drawn digit) join the labeled set too.
    pool.add(answer.added, round);
  }
  const { config, learner, report } = scope;
  await report.phase('train', where(scope, round));
  const tt = performance.now();
  const labeled = pool.labeled();
  const added = pool.added();
  await train(scope, labeled, round, added);
  const trainMs = performance.now() - tt;

  await report.phase('evaluate', where(scope, round));
  const te = performance.now();
  let calibration: RoundRecord['calibration'] = null;
  if (config.calibrate) {
    const fit = await calibrate(scope);
    temperature = fit.temperature;
    calibration = { temperature: fit.temperature, ece: Number.NaN, validationNll: { before: fit.nllBefore, after: fit.nllAfter } };
  }
  // Without labels there is no test set: nothing to evaluate against.
  const ev = unlabeled ? null : await learner.evaluate(temperature ?? undefined);
  if (calibration) calibration.ece = ev?.calibratedEce ?? Number.NaN;
  const evaluateMs = performance.now() - te;
  const grid = scope.grid ? await gridPredictions(learner, scope.grid, scope.dataset.shape) : null;
  const stop = scope.split.stopRows.length > 0 ? await stopSetPredictions(learner, scope.split.stopRows) : null;

  const classCounts = new Array<number>(scope.dataset.numClasses).fill(0);
  for (const i of labeled) classCounts[pool.labels[i]!]!++;
  for (const e of added) classCounts[e.label]!++;
  const acq = query?.ms ?? { predict: 0, score: 0, select: 0 };
  const selected = query?.selected ?? scope.split.initial;
  const given = query?.labels ?? Int32Array.from(selected, (i) => pool.labels[i]!);
  const record: RoundRecord = {
    round,
    labeled: labeled.length + added.length,
    accuracy: ev?.accuracy ?? null,
    loss: ev?.loss ?? null,
    ece: ev?.ece ?? null,
    calibration,
    classCounts,
    selected: Array.from(selected),
    selectedScores: query?.selectedScores ?? null,
    labels: Array.from(given),
    // Agreement with the dataset's labels, where it has them.
    ...(unlabeled ? {} : { agreed: Array.from(given, (v, j) => (v < 0 ? null : v === scope.dataset.train.y[selected[j]!])) }),
    ...(query?.added?.length ? { added: query.added.map(addedRecord) } : {}),
    ...(stop ? {
      stopping: {
        kappa: previous.stopPredictions ? cohenKappa(previous.stopPredictions, stop.predicted, scope.dataset.numClasses) : null,
        overallUncertainty: stop.overallUncertainty,
        maxConfidence: query?.maxConfidence ?? null,
      },
    } : {}),
    ms: { train: trainMs, ...acq, evaluate: evaluateMs },
  };
  return { record, temperature, stopPredictions: stop?.predicted ?? null, scores: query?.scores ?? null, confusion: ev ? Array.from(ev.confusion) : [], grid };
}

/**
 * Round 0 on a dataset without labels: the oracle labels the initial set (drawn at random) like any
 * batch; its skips leave the pool. A query without scores, for the round's record.
 * @throws OracleError when every row of the initial set was skipped (nothing to train on).
 */
async function labelInitial(scope: RunScope, pool: Pool): Promise<Query> {
  const selected = scope.split.initial;
  const answer = await askOracle(scope.oracle, { strategy: scope.strategyName, repeat: scope.repeat, round: 0, indices: Int32Array.from(selected) }, scope.dataset.numClasses, null);
  if (answer.labels.every((l) => l < 0)) {
    throw new OracleError(`the oracle skipped all ${selected.length} rows of the initial set (${scope.strategyName}, repeat ${scope.repeat}, round 0): the first model needs at least one label`);
  }
  pool.label(selected, 0, answer.labels);
  return { selected, labels: answer.labels, added: [], selectedScores: null, scores: null, maxConfidence: null, ms: { predict: 0, score: 0, select: 0 } };
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
    added: () => pool.added(),
    numClasses: scope.dataset.numClasses,
    temperature,
    mcSamples: config.mcSamples,
    mcRng: () => roundStream(config.seed, scope.repeat, round, 'mc-dropout'),
    rng: strategyStream(config.seed, scope.repeat, scope.strategyName, round),
    round,
    committee: { members: config.committee, train: (m) => trainMember(scope, pool.labeled(), pool.added(), round, m) },
  });
  try {
    const predictMs = performance.now() - tp;
    await report.phase('score', where(scope, round));
    const stochastic = config.stochastic === null ? null : { mode: config.stochastic, beta: config.stochasticBeta };
    const acq = await acquire(scope.strategy, inputs, k, { stochastic });
    await report.phase('select', where(scope, round));
    const chosen = asPoolPositions(acq.indices); // a strategy selects positions in the candidate list
    const selected = rowsAt(candidates, chosen);
    return {
      selected,
      selectedScores: acq.scores ? Array.from(acq.indices, (j) => acq.scores![j]!) : null,
      scores: acq.scores,
      maxConfidence: scope.split.stopRows.length > 0 && selected.length > 0 ? await queriedUncertainty(scope, inputs.probs, chosen, selected) : null,
      ms: { predict: predictMs, score: acq.ms.score, select: acq.ms.select },
    };
  } finally {
    disposeInputs(inputs);
  }
}

/** This round's model on the stop set: its predicted classes and mean normalised entropy. */
export async function stopSetPredictions(learner: Learner, rows: DatasetRows): Promise<{ predicted: Int32Array; overallUncertainty: number }> {
  const probs = learner.predictProbs(rows);
  try {
    return await stopSetSummary(probs);
  } finally {
    probs.dispose();
  }
}

/** The largest normalised entropy among the queried rows: from the strategy's probabilities when it had them, else predicted. */
async function queriedUncertainty(scope: RunScope, probs: tf.Tensor2D | undefined, chosen: Int32Array, selected: DatasetRows): Promise<number> {
  const p = probs ? tf.tidy(() => tf.gather(probs, Array.from(chosen))) as tf.Tensor2D : scope.learner.predictProbs(selected);
  try {
    return await largestUncertainty(p);
  } finally {
    p.dispose();
  }
}

/** Trains the run's learner on `labeled` and `added` with round `round`'s stream; a pause takes effect between epochs too. */
export async function train(scope: RunScope, labeled: DatasetRows, round: number, added: readonly AddedExample[] = []): Promise<void> {
  const { config, report } = scope;
  await scope.learner.fit(labeled, {
    rng: roundStream(config.seed, scope.repeat, round, 'train'),
    ...(added.length ? { added } : {}),
    ...(report.signal ? { signal: report.signal } : {}),
    onEpoch: async (log) => {
      await report.emit({ type: 'epoch', epoch: log.epoch, epochs: trainingEpochs(labeled.length, config), loss: log.loss, acc: log.acc, ...where(scope, round) });
      await report.pausePoint(); // between epochs, not only between phases
    },
  });
}

/**
 * Committee member `member` (>= 1) of round `round`'s query: a fresh learner trained from scratch
 * on `labeled` and `added` (as the run's model is), its initialisation and shuffles from the stream (repeat, round, 'committee:m').
 * No epoch events: it trains inside the round's predict phase. Disposed by the caller.
 */
async function trainMember(scope: RunScope, labeled: DatasetRows, added: readonly AddedExample[], round: number, member: number): Promise<Learner> {
  const { config, report } = scope;
  const learner = scope.newLearner();
  try {
    await learner.fit(labeled, {
      rng: roundStream(config.seed, scope.repeat, round, `committee:${member}`),
      ...(added.length ? { added } : {}),
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
