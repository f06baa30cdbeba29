/**
 * The pool-based active-learning loop. For each repeat and strategy: train on the initial set,
 * evaluate, then round after round predict the candidates, score, select, let the simulated
 * oracle reveal the labels, retrain, evaluate. Every random choice derives from `config.seed`:
 * the same config gives the same selections and accuracies.
 *
 * Randomness: per repeat, the validation hold-out, the initial set, and each round's model
 * initialisation, shuffles, pool subset and dropout masks come from streams named by
 * (repeat, round), the same for every strategy, so strategies are compared on equal terms; the
 * strategy's own stream (random scores) is forked by its name. Every stream is derived afresh
 * from the seed by its path of names (`stream`), so no stream depends on which others were
 * drawn before it: a round's training gets the same seed whether or not that round predicted,
 * subsampled the pool or ran MC dropout first, which is what lets a run resume exactly.
 */
import * as tf from '@tensorflow/tfjs';
import { backendInfo } from '../backend/index.ts';
import { acquire, getStrategy, type AcquisitionInputs } from '../acquisition/strategies.ts';
import { validateProbabilities } from '../acquisition/validate.ts';
import { applyTemperature, applyTemperatureToSamples, fitTemperature } from '../acquisition/calibration.ts';
import { Rng } from '../rng.ts';
import type { Dataset } from '../../datasets/index.ts';
import type { ExperimentConfig } from './config.ts';
import type { ExperimentEvent, Phase, Progress } from './events.ts';
import { tfLearner, type Learner, type LearnerFactory } from './learner.ts';
import { summarize, type ExperimentResults, type RoundRecord, type RunRecord } from './results.ts';

export interface RunOptions {
  /** Stops the experiment between steps; completed rounds are kept in the results. */
  signal?: AbortSignal;
  /** Receives plain-data events; awaited if it returns a promise. */
  onEvent?: (event: ExperimentEvent) => void | Promise<void>;
  /** Awaited between phases: a UI resolves it to resume after a pause. */
  waitIfPaused?: () => Promise<void>;
  /** The learners; default: tfjs models from the `models/` registry as the config says. */
  learner?: LearnerFactory;
  /**
   * Inputs at which to report the model's predicted class and confidence after every round,
   * row-major [G, ...example shape] (a grid over a 2-D dataset for decision-boundary maps).
   * Reads back G x 2 numbers per round.
   */
  grid?: Float32Array;
  /**
   * Continue an earlier run of the same configuration (its results, e.g. an `ExperimentError`'s
   * or a stored partial run): its finished runs are kept as they are, an interrupted run keeps
   * its completed rounds and goes on from the last one, and nothing kept is computed again.
   * Only `backend` may differ from `config`. The model of the last kept round is rebuilt by
   * retraining it on that round's labeled set with that round's seed (with `warmStart`, by
   * replaying every kept round's training), so on the same backend the resumed run selects and
   * scores exactly as an uninterrupted one would.
   */
  resume?: Pick<ExperimentResults, 'config' | 'runs'>;
  /**
   * Run only these (strategy, repeat) cells of the configuration (default: every one); the others
   * are left out of the results. Each cell's randomness derives from the seed by name, so a cell
   * run alone (in another process, on another machine) gives what it gives in the full run.
   */
  cells?: readonly { strategy: string; repeat: number }[];
}

/** The earlier results handed to `RunOptions.resume` do not belong to this configuration. */
export class ResumeError extends Error {
  override readonly name = 'ResumeError';
}

/** Config fields that may differ between a run and the one it resumes (they do not change what is computed). */
const RESUME_MAY_DIFFER: ReadonlySet<keyof ExperimentConfig> = new Set(['backend']);

/** Checks that `prior` can be resumed under `config`; returns its runs by "strategy#repeat". */
function resumable(config: ExperimentConfig, prior: Pick<ExperimentResults, 'config' | 'runs'>): Map<string, RunRecord> {
  for (const key of Object.keys(config) as (keyof ExperimentConfig)[]) {
    if (RESUME_MAY_DIFFER.has(key)) continue;
    const a = JSON.stringify(config[key]);
    const b = JSON.stringify(prior.config?.[key]);
    if (a !== b) throw new ResumeError(`cannot resume: config.${key} is ${a} now but was ${b ?? 'missing'} in the run being resumed`);
  }
  const byKey = new Map<string, RunRecord>();
  for (const run of prior.runs) {
    const key = `${run.strategy}#${run.repeat}`;
    if (!config.strategies.includes(run.strategy as ExperimentConfig['strategies'][number]) || run.repeat < 0 || run.repeat >= config.repeats) {
      throw new ResumeError(`cannot resume: the earlier results hold a run (${run.strategy}, repeat ${run.repeat}) this configuration does not have`);
    }
    if (byKey.has(key)) throw new ResumeError(`cannot resume: the earlier results hold two runs of ${run.strategy}, repeat ${run.repeat}`);
    run.rounds.forEach((r, i) => {
      if (r.round !== i) throw new ResumeError(`cannot resume: ${run.strategy}, repeat ${run.repeat} has round ${r.round} at position ${i} (rounds must be 0, 1, 2, ...)`);
    });
    if (run.rounds.length > config.rounds + 1) {
      throw new ResumeError(`cannot resume: ${run.strategy}, repeat ${run.repeat} has ${run.rounds.length} rounds, more than the ${config.rounds + 1} of this configuration`);
    }
    byKey.set(key, run);
  }
  return byKey;
}

const copyRound = (r: RoundRecord): RoundRecord => ({
  ...r,
  calibration: r.calibration ? { ...r.calibration, validationNll: { ...r.calibration.validationNll } } : null,
  classCounts: [...r.classCounts],
  selected: [...r.selected],
  selectedScores: r.selectedScores ? [...r.selectedScores] : null,
  ms: { ...r.ms },
});

/** The random stream named by `path` under `seed`: the same path always gives the same stream. */
export function stream(seed: number, ...path: string[]): Rng {
  return path.reduce((rng, label) => rng.fork(label), new Rng(seed));
}

/** Pool state marks (labeledAtRound): -1 in the pool, -2 held out for validation, r >= 0 labeled in round r. */
const IN_POOL = -1;
const HELD_OUT = -2;

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

/** Thrown when a run fails; `results` holds every round completed before the failure. */
export class ExperimentError extends Error {
  override readonly name = 'ExperimentError';
  constructor(
    message: string,
    readonly results: ExperimentResults,
    override readonly cause: unknown,
  ) {
    super(message);
  }
}

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return !!signal?.aborted || (err instanceof Error && err.name === 'AbortError');
}

/** The initial labeled set: `size` rows, balanced per class (remainder to the lowest classes) or at random. */
export function initialSet(y: Uint8Array, candidates: Int32Array, size: number, numClasses: number, balanced: boolean, rng: Rng): Int32Array {
  if (size > candidates.length) throw new RangeError(`initial set of ${size} from a pool of ${candidates.length}`);
  const order = rng.shuffle(Int32Array.from(candidates));
  if (!balanced) return order.slice(0, size).sort();
  const want = Array.from({ length: numClasses }, (_, c) => Math.floor(size / numClasses) + (c < size % numClasses ? 1 : 0));
  const chosen: number[] = [];
  for (const i of order) {
    const c = y[i]!;
    if (want[c]! > 0) {
      want[c]!--;
      chosen.push(i);
      if (chosen.length === size) break;
    }
  }
  if (chosen.length < size) {
    const short = want.map((w, c) => (w > 0 ? `class ${c} short by ${w}` : '')).filter(Boolean).join(', ');
    throw new RangeError(`cannot draw a balanced initial set of ${size}: ${short}`);
  }
  return Int32Array.from(chosen).sort();
}

/**
 * Runs the experiment and resolves with its results (status 'aborted' if stopped, with every
 * completed round). A failure rejects with `ExperimentError`, whose `results` keep what was done.
 */
export async function runExperiment(config: ExperimentConfig, dataset: Dataset<string>, options: RunOptions = {}): Promise<ExperimentResults> {
  const { signal, onEvent, waitIfPaused } = options;
  const prior = options.resume ? resumable(config, options.resume) : null;
  const only = options.cells ? new Set(options.cells.map((c) => `${c.strategy}#${c.repeat}`)) : null;
  for (const c of options.cells ?? []) {
    if (!config.strategies.includes(c.strategy as ExperimentConfig['strategies'][number]) || !Number.isInteger(c.repeat) || c.repeat < 0 || c.repeat >= config.repeats) {
      throw new RangeError(`cells: (${c.strategy}, repeat ${c.repeat}) is not a cell of this configuration`);
    }
  }
  const learnerFactory =
    options.learner ??
    tfLearner({ model: config.model, epochs: config.epochs, batchSize: config.batchSize, learningRate: config.learningRate, warmStart: config.warmStart, chunkSize: config.chunkSize });
  const started = Date.now();
  const t0 = performance.now();
  const env = backendInfo();
  const runs: RunRecord[] = [];
  const totalRounds = (only?.size ?? config.strategies.length * config.repeats) * (config.rounds + 1);
  let done = 0;
  const progress = (): Progress => ({ done, total: totalRounds, elapsedMs: performance.now() - t0 });
  const emit = async (e: ExperimentEvent) => {
    if (onEvent) await onEvent(e);
  };
  const results = (status: ExperimentResults['status']): ExperimentResults => ({
    version: 1,
    config,
    environment: { backend: env.backend, renderer: env.renderer, userAgent: typeof navigator !== 'undefined' ? navigator.userAgent : null },
    status,
    startedAt: new Date(started).toISOString(),
    elapsedMs: Math.round(performance.now() - t0),
    runs,
    summary: summarize(runs, config.target),
  });

  const nTrain = dataset.train.n;
  const nTest = dataset.test.n;
  if (config.initial + config.validation > nTrain) {
    throw new RangeError(`initial (${config.initial}) + validation (${config.validation}) exceed the ${nTrain} training rows of ${dataset.name}`);
  }
  const testIndices =
    config.testSubset !== null && config.testSubset < nTest
      ? stream(config.seed, 'test-subset').sample(nTest, config.testSubset).sort()
      : Int32Array.from({ length: nTest }, (_, i) => i);

  await emit({
    type: 'start',
    config,
    dataset: { name: dataset.name, numClasses: dataset.numClasses, classNames: dataset.classNames, poolSize: nTrain - config.validation, testSize: testIndices.length },
    progress: progress(),
    ...(prior ? { resumed: { keptRounds: [...prior.values()].reduce((a, r) => a + r.rounds.length, 0), keptRuns: prior.size } } : {}),
  });

  for (let repeat = 0; repeat < config.repeats; repeat++) {
    const rep = `repeat:${repeat}`;
    const marks0 = new Int32Array(nTrain).fill(IN_POOL);
    if (config.validation > 0) for (const i of stream(config.seed, rep, 'validation').sample(nTrain, config.validation)) marks0[i] = HELD_OUT;
    const poolRows = Int32Array.from(marks0.keys()).filter((i) => marks0[i] === IN_POOL);
    const validationRows = Int32Array.from(marks0.keys()).filter((i) => marks0[i] === HELD_OUT);
    const validationLabels = Uint8Array.from(validationRows, (i) => dataset.train.y[i]!);
    const initial = initialSet(dataset.train.y, poolRows, config.initial, dataset.numClasses, config.balanced, stream(config.seed, rep, 'initial'));

    for (const strategyName of config.strategies) {
      if (only && !only.has(`${strategyName}#${repeat}`)) continue;
      if (signal?.aborted) return await finish('aborted');
      const strategy = getStrategy(strategyName);
      const earlier = prior?.get(`${strategyName}#${repeat}`);
      if (earlier && (earlier.status === 'complete' || earlier.status === 'exhausted' || earlier.rounds.length === config.rounds + 1)) {
        // Finished before: kept as it was, nothing recomputed.
        const kept: RunRecord = { strategy: strategyName, repeat, status: earlier.status === 'exhausted' ? 'exhausted' : 'complete', rounds: earlier.rounds.map(copyRound) };
        runs.push(kept);
        done += kept.rounds.length;
        await emit({ type: 'run', run: kept });
        continue;
      }
      const run: RunRecord = { strategy: strategyName, repeat, status: 'complete', rounds: [] };
      runs.push(run);
      const marks = Int32Array.from(marks0);
      for (const i of initial) marks[i] = 0;
      const learner: Learner = learnerFactory({ dataset, testIndices, strategy: strategyName, repeat });
      try {
        let selected: Int32Array = initial;
        let selectedScores: number[] | null = null;
        let acqMs = { predict: 0, score: 0, select: 0 };
        let scores: Float32Array | null = null;
        let temperature: number | null = null; // fitted after the previous round's training
        let firstRound = 0;
        if (earlier && earlier.rounds.length > 0) {
          firstRound = await restore(earlier);
          const last = run.rounds[run.rounds.length - 1]!;
          selected = Int32Array.from(last.selected);
          temperature = last.calibration?.temperature ?? null;
        }
        for (let round = firstRound; round <= config.rounds; round++) {
          const where = { strategy: strategyName, repeat, round };
          const phase = async (p: Phase) => {
            if (waitIfPaused) await waitIfPaused();
            signal?.throwIfAborted();
            await emit({ type: 'phase', phase: p, ...where });
          };
          const roundStream = (label: string) => stream(config.seed, rep, `round:${round}`, label);

          if (round > 0) {
            // Candidates: the unlabeled pool, or a fresh seeded subset of it.
            let candidates = Int32Array.from(marks.keys()).filter((i) => marks[i] === IN_POOL);
            if (candidates.length === 0) {
              await emit({ type: 'warning', message: `the pool is exhausted after round ${round - 1}: the run ends with its results`, ...where });
              run.status = 'exhausted';
              break;
            }
            if (config.poolSubset !== null && candidates.length > config.poolSubset) {
              const pick = roundStream('pool-subset').sample(candidates.length, config.poolSubset).sort();
              candidates = Int32Array.from(pick, (j) => candidates[j]!);
            }
            let k = config.query;
            if (k > candidates.length) {
              await emit({ type: 'warning', message: `query size ${k} is larger than the ${candidates.length} rows left: querying ${candidates.length}`, ...where });
              k = candidates.length;
            }
            await phase('predict');
            const tp = performance.now();
            const inputs: AcquisitionInputs = { n: candidates.length, numClasses: dataset.numClasses, rng: stream(config.seed, rep, `strategy:${strategyName}`, `round:${round}`) };
            try {
              if (strategy.needs.includes('probs')) {
                if (temperature !== null) {
                  const logits = learner.predictLogits(candidates);
                  inputs.probs = applyTemperature(logits, temperature, { fromLogits: true });
                  logits.dispose();
                } else {
                  inputs.probs = learner.predictProbs(candidates);
                }
                await validateProbabilities(inputs.probs, { name: `round ${round} predictions` });
              }
              if (strategy.needs.includes('mcSamples')) {
                inputs.mcSamples = learner.predictMc(candidates, config.mcSamples, roundStream('mc-dropout'));
                if (temperature !== null) {
                  const raw = inputs.mcSamples;
                  inputs.mcSamples = applyTemperatureToSamples(raw, temperature);
                  raw.dispose();
                }
                await validateProbabilities(inputs.mcSamples, { rank: 3, name: `round ${round} MC-dropout predictions` });
              }
              if (strategy.needs.includes('embeddings')) inputs.embeddings = learner.embed(candidates);
              if (strategy.needs.includes('inputs')) inputs.inputs = learner.inputs(candidates);
              if (strategy.needs.includes('labeledEmbeddings')) {
                inputs.labeledEmbeddings = learner.embed(Int32Array.from(marks.keys()).filter((i) => marks[i]! >= 0));
              }
              const predictMs = performance.now() - tp;
              await phase('score');
              const acq = await acquire(strategy, inputs, k);
              await phase('select');
              selected = Int32Array.from(acq.indices, (j) => candidates[j]!);
              selectedScores = acq.scores ? Array.from(acq.indices, (j) => acq.scores![j]!) : null;
              scores = acq.scores;
              acqMs = { predict: predictMs, score: acq.ms.score, select: acq.ms.select };
            } finally {
              inputs.probs?.dispose();
              inputs.mcSamples?.dispose();
              inputs.embeddings?.dispose();
              inputs.inputs?.dispose();
              inputs.labeledEmbeddings?.dispose();
            }
            // The simulated oracle reveals the labels: they join the labeled set.
            for (const i of selected) marks[i] = round;
          }

          await phase('train');
          const tt = performance.now();
          const labeled = Int32Array.from(marks.keys()).filter((i) => marks[i]! >= 0);
          await learner.fit(labeled, {
            rng: roundStream('train'),
            ...(signal ? { signal } : {}),
            onEpoch: async (log) => {
              await emit({ type: 'epoch', epoch: log.epoch, epochs: config.epochs, loss: log.loss, ...where });
              if (waitIfPaused) await waitIfPaused(); // a pause takes effect between epochs, not only between phases
            },
          });
          const trainMs = performance.now() - tt;
          await phase('evaluate');
          const te = performance.now();
          let calibration: RoundRecord['calibration'] = null;
          if (config.calibrate) {
            const logits = learner.predictLogits(validationRows);
            const fit = await fitTemperature(logits, validationLabels, { fromLogits: true }).finally(() => logits.dispose());
            temperature = fit.temperature;
            calibration = { temperature: fit.temperature, ece: Number.NaN, validationNll: { before: fit.nllBefore, after: fit.nllAfter } };
          }
          const ev = await learner.evaluate(temperature ?? undefined);
          if (calibration) calibration.ece = ev.calibratedEce ?? Number.NaN;
          const evaluateMs = performance.now() - te;
          const grid = options.grid ? await gridPredictions(learner, options.grid, dataset.shape) : null;

          const classCounts = new Array<number>(dataset.numClasses).fill(0);
          for (const i of labeled) classCounts[dataset.train.y[i]!]!++;
          const record: RoundRecord = {
            round,
            labeled: labeled.length,
            accuracy: ev.accuracy,
            loss: ev.loss,
            ece: ev.ece,
            calibration,
            classCounts,
            selected: Array.from(selected),
            selectedScores: round === 0 ? null : selectedScores,
            ms: { train: trainMs, ...acqMs, evaluate: evaluateMs },
          };
          if (round === 0) record.ms = { train: trainMs, predict: 0, score: 0, select: 0, evaluate: evaluateMs };
          run.rounds.push(record);
          done++;
          await emit({
            type: 'round', strategy: strategyName, repeat, record, scores: round === 0 ? null : scores,
            confusion: Array.from(ev.confusion), grid, progress: progress(),
          });
        }

        /**
         * Takes over an interrupted run's completed rounds: re-applies their selections to the
         * pool marks (checking each against the pool), and retrains the last kept round's model. Returns the next round.
         */
        async function restore(earlier: RunRecord): Promise<number> {
          const where = `${strategyName}, repeat ${repeat}`;
          const r0 = earlier.rounds[0]!;
          if (r0.selected.length !== initial.length || r0.selected.some((i, j) => i !== initial[j])) {
            throw new ResumeError(`cannot resume ${where}: its round-0 labeled set is not the one this configuration draws (different data or seed?)`);
          }
          for (const rec of earlier.rounds.slice(1)) {
            for (const i of rec.selected) {
              if (!Number.isInteger(i) || i < 0 || i >= nTrain || marks[i] !== IN_POOL) {
                throw new ResumeError(`cannot resume ${where}: round ${rec.round} selected row ${i}, which is ${marks[i] === undefined ? 'not a training row' : marks[i] === HELD_OUT ? 'held out for validation' : 'already labeled'}`);
              }
              marks[i] = rec.round;
            }
            run.rounds.push(copyRound(rec));
          }
          run.rounds.unshift(copyRound(r0));
          done += run.rounds.length;
          const last = earlier.rounds.length - 1;
          const labeledAt = (r: number) => Int32Array.from(marks.keys()).filter((i) => marks[i]! >= 0 && marks[i]! <= r);
          await emit({
            type: 'resume', strategy: strategyName, repeat, round: last, labeled: labeledAt(last).length,
            message: `continuing after round ${last}: ${last + 1} kept round${last === 0 ? '' : 's'}; retraining round ${last}'s model on its ${labeledAt(last).length} labels${config.warmStart && last > 0 ? ` (warm start: replaying the training of rounds 0 to ${last})` : ''}`,
          });
          // The learner's state after round `last`: its training, replayed with the same seeds.
          for (let r = config.warmStart ? 0 : last; r <= last; r++) {
            if (waitIfPaused) await waitIfPaused();
            signal?.throwIfAborted();
            await emit({ type: 'phase', phase: 'train', strategy: strategyName, repeat, round: r });
            await learner.fit(labeledAt(r), {
              rng: stream(config.seed, rep, `round:${r}`, 'train'),
              ...(signal ? { signal } : {}),
              onEpoch: async (log) => {
                await emit({ type: 'epoch', epoch: log.epoch, epochs: config.epochs, loss: log.loss, strategy: strategyName, repeat, round: r });
                if (waitIfPaused) await waitIfPaused();
              },
            });
          }
          return last + 1;
        }
      } catch (err) {
        if (isAbort(err, signal)) {
          run.status = 'aborted';
          await emit({ type: 'run', run });
          return await finish('aborted');
        }
        run.status = 'failed';
        run.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        await emit({ type: 'run', run });
        const partial = await finish('failed');
        throw new ExperimentError(`${strategyName}, repeat ${repeat}: ${run.error}`, partial, err);
      } finally {
        learner.dispose();
      }
      await emit({ type: 'run', run });
    }
  }
  return await finish('complete');

  async function finish(status: ExperimentResults['status']): Promise<ExperimentResults> {
    const r = results(status);
    await emit({ type: 'end', results: r });
    return r;
  }
}
