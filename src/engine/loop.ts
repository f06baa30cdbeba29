/**
 * The pool-based active-learning loop. For each repeat and strategy: train on the initial set,
 * evaluate, then round after round predict the candidates, score, select, ask the oracle for the
 * labels (`oracle.ts`: simulated by default), retrain, evaluate. Every random choice derives from `config.seed`:
 * the same config gives the same selections and accuracies.
 *
 * Randomness: per repeat, the validation hold-out, the initial set, and each round's model
 * initialisation, shuffles, pool subset and dropout masks come from streams named by
 * (repeat, round), the same for every strategy, so strategies are compared on equal terms; the
 * strategy's own stream (random scores) is forked by its name (`streams.ts`).
 *
 * The steps: `pool.ts` (a repeat's split and a run's pool state), `inputs.ts` (what a strategy
 * needs), `round.ts` (one round), `restore.ts` (taking over an earlier run and rebuilding its
 * model).
 */
import type { ModelExport } from '../../models/export.ts';
import type { BackendChoiceRecord } from '../backend/auto-choice.ts';
import { backendInfo } from '../backend/index.ts';
import { getStrategy } from '../acquisition/strategies.ts';
import type { Dataset } from '../../datasets/index.ts';
import type { ExperimentConfig } from './config.ts';
import type { ExperimentEvent, Progress } from './events.ts';
import { tfLearner, type Learner, type LearnerFactory } from './learner.ts';
import { noisyOracle, simulatedOracle, type Oracle, type OracleKind } from './oracle.ts';
import { Pool, splitRepeat } from './pool.ts';
import { Reporter } from './reporter.ts';
import { finishedRun, rebuildModel, resumable, runKey, takeOver } from './restore.ts';
import { playRound, stopSetPredictions, type Previous, type RunScope } from './round.ts';
import { stopRound } from './stopping.ts';
import { summarize, type ExperimentResults, type RunRecord } from './results.ts';
import { stream } from './streams.ts';

export { initialSet } from './pool.ts';
export { ResumeError } from './restore.ts';
export { stream } from './streams.ts';

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
  /**
   * Receives the final model of every run that finishes here (complete or exhausted; not a run
   * kept as it was by `resume`, nor a stopped or failed one), once, before its learner is
   * disposed: TensorFlow.js artifacts as plain data (`models/export.ts`; `exportFiles` makes
   * model.json + weights.bin of them). Awaited. If the export or this callback fails, the run
   * keeps its results and a warning event says why.
   */
  onFinalModel?: (run: FinalModelRun, model: ModelExport) => void | Promise<void>;
  /** How `config.backend: 'auto'` was resolved, recorded as the results' `environment.backendChoice`. */
  backendChoice?: BackendChoiceRecord;
  /**
   * Labels each round's query (`engine/oracle.ts`): given the rows, resolves to one label per row,
   * -1 to skip it (the row leaves the pool, is never asked again, never trained on). Default: the
   * simulated oracle (the dataset's labels; with `config.oracleNoise`, the noisy one). The initial
   * set takes the dataset's labels, except on a dataset without labels (`Dataset.unlabeled`), where
   * the oracle is asked for them in round 0 too (and is required). The answer may also add examples that are not dataset
   * rows (`{labels, added}`: a drawn digit and its label, image datasets only): they join the labeled
   * set in that round, are recorded in its `RoundRecord.added` and rebuilt on resume. A rejection,
   * a wrong count, a label out of range or a bad added example fails
   * the run with an `ExperimentError` that keeps the completed rounds; a rejection named
   * 'AbortError' stops it as the signal does.
   */
  oracle?: Oracle;
  /** What `oracle` is, as the results record it (`RunRecord.oracle`); default 'human'. Ignored without `oracle`. */
  oracleKind?: OracleKind;
}

/** The run whose final model `RunOptions.onFinalModel` receives, and that model's last round. */
export interface FinalModelRun {
  strategy: string;
  repeat: number;
  /** The last completed round: the model is the one trained in it. */
  round: number;
  labeled: number;
  /** Its test accuracy in that round; null on a dataset without labels (nothing to test against). */
  accuracy: number | null;
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

/** The runs so far and the rounds done, for progress and for the results at any moment. */
class Ledger {
  readonly runs: RunRecord[] = [];
  done = 0;
  private readonly started = Date.now();
  private readonly t0 = performance.now();
  private readonly total: number;
  private readonly env = backendInfo();

  /** `cells`: how many (strategy, repeat) cells run here (all of them, or `RunOptions.cells`). */
  constructor(
    private readonly config: ExperimentConfig,
    cells: number,
    private readonly backendChoice: BackendChoiceRecord | null,
  ) {
    this.total = cells * (config.rounds + 1);
  }

  progress(): Progress {
    return { done: this.done, total: this.total, elapsedMs: performance.now() - this.t0 };
  }

  results(status: ExperimentResults['status']): ExperimentResults {
    const { config, env, runs } = this;
    return {
      version: 1,
      config,
      environment: {
        backend: env.backend, renderer: env.renderer, userAgent: typeof navigator !== 'undefined' ? navigator.userAgent : null,
        ...(this.backendChoice ? { backendChoice: this.backendChoice } : {}),
      },
      status,
      startedAt: new Date(this.started).toISOString(),
      elapsedMs: Math.round(performance.now() - this.t0),
      runs,
      summary: summarize(runs, config.target),
    };
  }
}

/** `RunOptions.cells` by `runKey`, each checked to be a cell of `config`. */
function onlyCells(config: ExperimentConfig, cells: NonNullable<RunOptions['cells']>): Set<string> {
  for (const c of cells) {
    if (!config.strategies.includes(c.strategy as ExperimentConfig['strategies'][number]) || !Number.isInteger(c.repeat) || c.repeat < 0 || c.repeat >= config.repeats) {
      throw new RangeError(`cells: (${c.strategy}, repeat ${c.repeat}) is not a cell of this configuration`);
    }
  }
  return new Set(cells.map((c) => runKey(c.strategy, c.repeat)));
}

/** The test rows every round evaluates on: all of them, or a seeded subset. */
function testRows(config: ExperimentConfig, nTest: number): Int32Array {
  return config.testSubset !== null && config.testSubset < nTest
    ? stream(config.seed, 'test-subset').sample(nTest, config.testSubset).sort()
    : Int32Array.from({ length: nTest }, (_, i) => i);
}

/**
 * Runs the experiment and resolves with its results (status 'aborted' if stopped, with every
 * completed round). A failure rejects with `ExperimentError`, whose `results` keep what was done.
 */
export async function runExperiment(config: ExperimentConfig, dataset: Dataset<string>, options: RunOptions = {}): Promise<ExperimentResults> {
  const { signal } = options;
  const prior = options.resume ? resumable(config, options.resume) : null;
  const only = options.cells ? onlyCells(config, options.cells) : null;
  const learnerFactory =
    options.learner ??
    tfLearner({ model: config.model, epochs: config.epochs, minSteps: config.minSteps, batchSize: config.batchSize, learningRate: config.learningRate, warmStart: config.warmStart, chunkSize: config.chunkSize });
  if (dataset.unlabeled && !options.oracle) {
    throw new RangeError(`${dataset.name} has no labels: a run on it needs an oracle that gives them (RunOptions.oracle, e.g. "Label it yourself" in the page); the simulated oracle answers from labels`);
  }
  if (options.oracle && config.oracleNoise > 0) {
    throw new RangeError(`config.oracleNoise (${config.oracleNoise}) makes the simulated oracle noisy; with RunOptions.oracle it must be 0`);
  }
  const oracle = options.oracle ?? (config.oracleNoise > 0 ? noisyOracle(dataset, config.oracleNoise, config.seed) : simulatedOracle(dataset));
  const oracleKind: OracleKind = options.oracle ? (options.oracleKind ?? 'human') : config.oracleNoise > 0 ? 'noisy' : 'simulated';
  const report = new Reporter(options);
  const ledger = new Ledger(config, only?.size ?? config.strategies.length * config.repeats, options.backendChoice ?? null);
  const finish = async (status: ExperimentResults['status']): Promise<ExperimentResults> => {
    const r = ledger.results(status);
    await report.emit({ type: 'end', results: r });
    return r;
  };

  const nTrain = dataset.train.n;
  if (config.initial + config.validation > nTrain) {
    throw new RangeError(`initial (${config.initial}) + validation (${config.validation}) exceed the ${nTrain} training rows of ${dataset.name}`);
  }
  const testIndices = testRows(config, dataset.test.n);
  await report.emit({
    type: 'start',
    config,
    dataset: { name: dataset.name, numClasses: dataset.numClasses, classNames: dataset.classNames, poolSize: nTrain - config.validation, testSize: testIndices.length },
    progress: ledger.progress(),
    ...(prior ? { resumed: { keptRounds: [...prior.values()].reduce((a, r) => a + r.rounds.length, 0), keptRuns: prior.size } } : {}),
  });

  for (let repeat = 0; repeat < config.repeats; repeat++) {
    const split = splitRepeat(config, dataset, repeat);
    for (const strategyName of config.strategies) {
      if (only && !only.has(runKey(strategyName, repeat))) continue;
      if (signal?.aborted) return await finish('aborted');
      const strategy = getStrategy(strategyName);
      const earlier = prior?.get(runKey(strategyName, repeat));
      const kept = earlier ? finishedRun(earlier, config) : null;
      if (kept) {
        // Finished before: kept as it was, nothing recomputed.
        ledger.runs.push(kept);
        ledger.done += kept.rounds.length;
        await report.emit({ type: 'run', run: kept });
        continue;
      }
      const run: RunRecord = { strategy: strategyName, repeat, status: 'complete', oracle: oracleKind, rounds: [] };
      ledger.runs.push(run);
      // Without labels, the initial set waits for the oracle's answer too (round 0).
      const pool = new Pool(split, dataset.train.y, !dataset.unlabeled);
      // The learners train on the run's labels: the dataset's, overwritten by the oracle's answers.
      const learnerContext = { dataset: { ...dataset, train: { ...dataset.train, y: pool.labels } }, testIndices, strategy: strategyName, repeat };
      const learner = learnerFactory(learnerContext);
      const newLearner = () => learnerFactory(learnerContext);
      try {
        await playRun({ config, dataset, strategy, strategyName, repeat, split, learner, newLearner, report, grid: options.grid, oracle }, pool, run, earlier, ledger);
        if (options.onFinalModel) await handOverModel(options.onFinalModel, learner, run, config, dataset, report);
      } catch (err) {
        if (isAbort(err, signal)) {
          run.status = 'aborted';
          await report.emit({ type: 'run', run });
          return await finish('aborted');
        }
        run.status = 'failed';
        run.error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        await report.emit({ type: 'run', run });
        const partial = await finish('failed');
        throw new ExperimentError(`${strategyName}, repeat ${repeat}: ${run.error}`, partial, err);
      } finally {
        learner.dispose();
      }
      await report.emit({ type: 'run', run });
    }
  }
  return await finish('complete');
}

/**
 * Gives `run`'s final model to `onFinalModel`, with what it was trained on in its model.json's
 * metadata. A failure here does not fail the run: it becomes a warning.
 */
async function handOverModel(
  onFinalModel: NonNullable<RunOptions['onFinalModel']>, learner: Learner, run: RunRecord, config: ExperimentConfig, dataset: Dataset<string>, report: Reporter,
): Promise<void> {
  const last = run.rounds.at(-1);
  if (!last) return;
  const info: FinalModelRun = { strategy: run.strategy, repeat: run.repeat, round: last.round, labeled: last.labeled, accuracy: last.accuracy };
  const where = { strategy: run.strategy, repeat: run.repeat, round: last.round };
  if (!learner.exportModel) {
    await report.emit({ type: 'warning', message: 'this learner cannot export its model: no final model is saved', ...where });
    return;
  }
  try {
    const model = await learner.exportModel({
      activelab: {
        dataset: dataset.name, classNames: [...dataset.classNames], inputShape: [...dataset.shape], numClasses: dataset.numClasses,
        model: config.model, seed: config.seed, ...info,
      },
    });
    await onFinalModel(info, model);
  } catch (err) {
    await report.emit({ type: 'warning', message: `the final model could not be exported: ${err instanceof Error ? err.message : String(err)}`, ...where });
  }
}

/**
 * One run (a strategy in a repeat), into `run`: continues `earlier`'s kept rounds if there are
 * any, then plays the remaining rounds until the last or until the pool is exhausted.
 */
async function playRun(scope: RunScope, pool: Pool, run: RunRecord, earlier: RunRecord | undefined, ledger: Ledger): Promise<void> {
  const previous: Previous = { temperature: null, stopPredictions: null }; // after the previous round's training
  let first = 0;
  if (earlier && earlier.rounds.length > 0) {
    const kept = takeOver(scope, pool, earlier);
    run.rounds.push(...kept);
    ledger.done += kept.length;
    await rebuildModel(scope, pool, kept.length - 1);
    previous.temperature = kept[kept.length - 1]!.calibration?.temperature ?? null;
    // The rebuilt model's stop-set predictions, for the next round's kappa.
    if (scope.split.stopRows.length > 0) previous.stopPredictions = (await stopSetPredictions(scope.learner, scope.split.stopRows)).predicted;
    first = kept.length;
  }
  const { stopWhen } = scope.config;
  for (let round = first; round <= scope.config.rounds; round++) {
    const outcome = await playRound(scope, pool, round, previous);
    if (!outcome) {
      run.status = 'exhausted';
      break;
    }
    if ('stop' in outcome) {
      run.stopped = outcome.stop;
      break;
    }
    previous.temperature = outcome.temperature;
    previous.stopPredictions = outcome.stopPredictions;
    run.rounds.push(outcome.record);
    ledger.done++;
    await scope.report.emit({
      type: 'round', strategy: scope.strategyName, repeat: scope.repeat, record: outcome.record, scores: outcome.scores,
      confusion: outcome.confusion, grid: outcome.grid, progress: ledger.progress(),
    });
    if ((stopWhen === 'stabilizing' || stopWhen === 'overall-uncertainty') && round < scope.config.rounds && stopRound(stopWhen, run.rounds) !== null) {
      run.stopped = { criterion: stopWhen, round };
      break;
    }
  }
  if (run.stopped) {
    await scope.report.emit({
      type: 'warning', strategy: scope.strategyName, repeat: scope.repeat, round: run.stopped.round,
      message: `stopped after round ${run.stopped.round}: the ${run.stopped.criterion} criterion holds (config.stopWhen)`,
    });
  }
}
