/**
 * The results of an experiment as plain data (JSON-ready), and the summary statistics computed
 * from them: final accuracy, area under the learning curve, labels needed to reach a target.
 */
import type { BackendChoiceRecord } from '../backend/auto-choice.ts';
import type { UserDatasetRecord } from '../../datasets/user/data.ts';
import type { AddedRecord } from './added.ts';
import type { ExperimentConfig } from './config.ts';
import type { OracleKind } from './oracle.ts';
import { STOP_CRITERIA, stopRound, type StopCriterion, type StoppingRecord, type StopRecord } from './stopping.ts';
import { comparePaired } from './statistics.ts';
import { Rng } from '../rng.ts';

export interface RoundTimes {
  /** Training this round's model (ms). */
  train: number;
  /** Forward passes over the candidates that chose this round's batch (ms; 0 in round 0). */
  predict: number;
  /** Scoring: the strategy's kernel and reading the N scores back (ms). */
  score: number;
  /** Choosing the batch from the scores (ms). */
  select: number;
  /** Test-set evaluation (ms). */
  evaluate: number;
}

export interface RoundRecord {
  /** 0 = trained on the initial set; r >= 1 = after the r-th query. */
  round: number;
  /** Size of the labeled set the model was trained on (labeled dataset rows and added examples). */
  labeled: number;
  /** Test accuracy in [0, 1]; null on a dataset without labels (`Dataset.unlabeled`: no test set to evaluate on). */
  accuracy: number | null;
  /** Test cross-entropy H(P, Q) = -mean log q(true class), nats (seed 002's loss, natural log); null as `accuracy`. */
  loss: number | null;
  /** Expected calibration error of this round's model on the test rows (15 equal-width bins); null as `accuracy`. */
  ece: number | null;
  /** With `calibrate`: the temperature fitted on the validation rows and what it changed. */
  calibration: { temperature: number; ece: number; validationNll: { before: number; after: number } } | null;
  /** Labeled examples per class. */
  classCounts: number[];
  /** Dataset (train split) indices added this round: the initial set in round 0, the query after. */
  selected: number[];
  /** The strategy's informativeness of each selected row (null for round 0 and set strategies). */
  selectedScores: number[] | null;
  /**
   * The label the oracle gave each selected row, in `selected`'s order: a class, or -1 where it
   * skipped the row (which then left the pool unlabeled). Round 0's are the dataset's labels of the
   * initial set. Absent in results written before the oracle was a part (the dataset's labels then).
   */
  labels?: number[];
  /** Whether each label in `labels` agrees with the dataset's label of its row (null for a skip). */
  agreed?: (boolean | null)[];
  /**
   * Examples that are not dataset rows (a digit drawn on the page's pad) added to the labeled set
   * with this round's answer, in the order added: trained on from this round on, counted in
   * `labeled` and `classCounts`. Absent when none was added.
   */
  added?: AddedRecord[];
  /** The stopping advice's measures this round (`stopping.ts`); absent without a stop set (`config.stopSet` 0, older results). */
  stopping?: StoppingRecord;
  ms: RoundTimes;
}

export type RunStatus = 'complete' | 'aborted' | 'exhausted' | 'failed';

export interface RunRecord {
  strategy: string;
  repeat: number;
  /** complete; aborted (stopped by the user); exhausted (the pool ran out); failed (error, see `error`). */
  status: RunStatus;
  error?: string;
  /** Who labeled the queries (`engine/oracle.ts`); absent in results written before it was recorded (simulated). */
  oracle?: OracleKind;
  /** Set when `config.stopWhen` ended the run: the criterion and the last round kept. */
  stopped?: StopRecord;
  rounds: RoundRecord[];
}

export interface LabelsToTarget {
  target: number;
  /** Mean over the repeats that reached the target; null if none did. */
  mean: number | null;
  /** How many repeats reached it. */
  reached: number;
  /** Labels at which each repeat first reached the target; null where it never did. */
  perRepeat: (number | null)[];
}

/** Where one stopping criterion would have stopped, over a strategy's repeats (`stopping.ts`). */
export interface StopSummary {
  criterion: StopCriterion;
  /** Repeats in which it held. */
  reached: number;
  /** Mean over those repeats of the labels at the advised round; null if it never held. */
  labels: number | null;
  /** Mean over those repeats of the labels saved (the run's last labeled count minus the advised one) and the accuracy given up (last minus advised; negative: stopping gained). */
  saved: number | null;
  accuracyLost: number | null;
}

export interface StrategySummary {
  strategy: string;
  repeats: number;
  /** Mean and std over repeats; null when the runs have no test accuracy (a dataset without labels). */
  finalAccuracy: { mean: number; std: number } | null;
  /** Area under the accuracy vs labels curve, normalised to [0, 1] (mean over repeats); null as `finalAccuracy`. */
  alc: number | null;
  labelsToTarget: LabelsToTarget;
  /** Each stopping criterion's advice; absent when no run recorded the advice. */
  stopping?: StopSummary[];
  /**
   * This strategy against `random`, paired by repeat (the same initial set): null for random
   * itself, without a random run, or with fewer than 2 repeats of both.
   */
  vsRandom: PairedSummary | null;
}

/** One paired difference (this strategy minus the other) over the repeats, with its interval and tests. */
export interface PairedStat {
  /** Repeats that enter the comparison. */
  pairs: number;
  meanDifference: number;
  /** 95% seeded percentile-bootstrap interval of the mean difference (B = 10,000). */
  low: number;
  high: number;
  /** Two-sided exact Wilcoxon signed-rank p (zeros dropped; normal approximation beyond 50 pairs). */
  wilcoxonP: number;
  /** Two-sided exact sign-flip permutation p of the mean difference. */
  permutationP: number;
}

export interface PairedSummary {
  against: string;
  /** ALC difference (higher is better). */
  alc: PairedStat;
  /**
   * Labels-to-target difference (lower is better) over the repeats where both reached the
   * target; null where fewer than 2 did.
   */
  labelsToTarget: PairedStat | null;
}

/**
 * The bootstrap's seed: fixed, so a summary recomputed from the same runs (the CLI, a merge, the
 * page, a file read back) is the same everywhere; each pair and measure forks its own stream.
 */
export const STATISTICS_SEED = 20_190_601;

/**
 * The last PAIRED_CACHE_SIZE answers of `pairedStat`, by its exact inputs. Its bootstrap (10,000
 * resamples) is most of what recomputing a summary costs, and the same runs are summarised again
 * and again: the page on every redraw of a run, a results file each time it is read or checked.
 * The answer depends on the inputs alone (the seed is fixed), so a cached one is the same answer.
 */
const PAIRED_CACHE_SIZE = 256;
const pairedCache = new Map<string, PairedStat>();

/** `a` against `b`, paired by position; null with fewer than 2 pairs. */
export function pairedStat(a: readonly number[], b: readonly number[], name: string): PairedStat | null {
  if (a.length < 2 || a.length !== b.length) return null;
  // String(x) is the shortest text that reads back as x (and -0 is told from 0): equal keys are equal inputs.
  const text = (xs: readonly number[]) => xs.map((x) => (Object.is(x, -0) ? '-0' : String(x))).join(',');
  const key = `${name}\u0000${text(a)}\u0000${text(b)}`;
  const cached = pairedCache.get(key);
  if (cached) return { ...cached };
  const c = comparePaired(a, b, { rng: new Rng(STATISTICS_SEED).fork(name) });
  const stat: PairedStat = {
    pairs: c.n, meanDifference: c.meanDifference, low: c.interval.low, high: c.interval.high,
    wilcoxonP: c.wilcoxon.pValue, permutationP: c.signFlip.pValue,
  };
  if (pairedCache.size >= PAIRED_CACHE_SIZE) pairedCache.delete(pairedCache.keys().next().value!);
  pairedCache.set(key, stat);
  return { ...stat };
}

/** `runs` of one strategy against `others` of another, paired by repeat. */
function compareRuns(strategy: string, runs: readonly RunRecord[], against: string, others: readonly RunRecord[], target: number): PairedSummary | null {
  const byRepeat = new Map(others.map((r) => [r.repeat, r]));
  const pairs = runs.flatMap((r) => (byRepeat.has(r.repeat) ? [[r, byRepeat.get(r.repeat)!] as const] : []));
  const alc = pairedStat(pairs.map(([a]) => areaUnderLearningCurve(a.rounds)), pairs.map(([, b]) => areaUnderLearningCurve(b.rounds)), `${strategy}-vs-${against}:alc`);
  if (alc === null) return null;
  const reached = pairs.flatMap(([a, b]) => {
    const la = labelsToReach(a.rounds, target), lb = labelsToReach(b.rounds, target);
    return la !== null && lb !== null ? [[la, lb] as const] : [];
  });
  return { against, alc, labelsToTarget: pairedStat(reached.map(([a]) => a), reached.map(([, b]) => b), `${strategy}-vs-${against}:labels`) };
}

/**
 * `strategy` against `against` over `runs` (any pair on request; the summary gives each strategy
 * against random): paired differences in ALC and labels-to-target with their intervals and tests.
 */
export function compareStrategies(runs: readonly RunRecord[], strategy: string, against: string, target: number): PairedSummary | null {
  const of = (s: string) => runs.filter((r) => r.strategy === s && r.rounds.length > 0);
  return compareRuns(strategy, of(strategy), against, of(against), target);
}

export interface ExperimentResults {
  version: 1;
  config: ExperimentConfig;
  environment: {
    backend: string;
    renderer: string | null;
    userAgent: string | null;
    /** How `backend: 'auto'` was resolved: what was picked, why, and the calibration's timings. */
    backendChoice?: BackendChoiceRecord;
  };
  status: 'complete' | 'aborted' | 'failed';
  startedAt: string;
  elapsedMs: number;
  runs: RunRecord[];
  summary: StrategySummary[];
  /** Peak tensor memory over the run, when the runner measured it (the CLI does). */
  memory?: { peakBytes: number; peakTensors: number };
  /** With `--shard I/N`: this file holds only that shard's cells. */
  shard?: { index: number; count: number };
  /** Cells of the configuration that this file lacks (a merge of shards that did not cover them all). */
  absent?: CellRef[];
  /** The processes that ran the cells (the CLI's `--jobs`): what each ran and its peak memory. */
  workers?: WorkerReport[];
  /**
   * The user's own dataset `config.dataset` names (absent for a built-in one): its name and content
   * hash (its identity: resume, merge and Open results refuse another), what it is, where it was
   * read from, and a table's standardization.
   */
  dataset?: UserDatasetRecord;
}

/** One (strategy, repeat) cell of a configuration. */
export interface CellRef {
  strategy: string;
  repeat: number;
}

export interface WorkerReport {
  /** 1, 2, ... in the order the workers started (a replaced worker gets the next number). */
  worker: number;
  pid: number;
  /** With a merge: the shard whose file listed this worker. */
  shard?: number;
  /** The cells it ran, in order. */
  cells: CellRef[];
  /** Peak resident set size of the process (bytes; `process.resourceUsage().maxRSS`). */
  peakRssBytes: number;
  /** Peak tensor memory in the process. */
  peakTensorBytes: number;
  peakTensors: number;
  /** How it ended when not of its own accord, e.g. "killed by SIGKILL"; null if it exited normally. */
  exit: string | null;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** Sample standard deviation (n - 1); 0 for a single repeat. */
export const std = (xs: number[]): number => {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
};

/**
 * Area under the learning curve (accuracy vs labels, trapezoids), divided by the label range so
 * that a curve at accuracy a throughout scores a. A single point scores its accuracy.
 */
export function areaUnderLearningCurve(rounds: readonly Pick<RoundRecord, 'labeled' | 'accuracy'>[]): number {
  if (rounds.length === 0) return Number.NaN;
  if (!evaluated(rounds)) return Number.NaN;
  if (rounds.length === 1) return rounds[0]!.accuracy;
  let area = 0;
  for (let i = 1; i < rounds.length; i++) {
    const a = rounds[i - 1]!, b = rounds[i]!;
    area += ((a.accuracy + b.accuracy) / 2) * (b.labeled - a.labeled);
  }
  const range = rounds[rounds.length - 1]!.labeled - rounds[0]!.labeled;
  return range > 0 ? area / range : rounds[rounds.length - 1]!.accuracy;
}

/** Whether every round has a test accuracy (false on a dataset without labels, where none has). */
export function evaluated<R extends Pick<RoundRecord, 'accuracy'>>(rounds: readonly R[]): rounds is readonly (R & { accuracy: number })[] {
  return rounds.every((r) => r.accuracy !== null);
}

/** Labels at the first round whose accuracy reaches `target`, or null. */
export function labelsToReach(rounds: readonly Pick<RoundRecord, 'labeled' | 'accuracy'>[], target: number): number | null {
  for (const r of rounds) if (r.accuracy !== null && r.accuracy >= target) return r.labeled;
  return null;
}

/** Per-strategy summary over the runs that have at least one round, in the order strategies first appear. */
export function summarize(runs: readonly RunRecord[], target: number): StrategySummary[] {
  const order: string[] = [];
  const by = new Map<string, RunRecord[]>();
  for (const run of runs) {
    if (run.rounds.length === 0) continue;
    if (!by.has(run.strategy)) {
      by.set(run.strategy, []);
      order.push(run.strategy);
    }
    by.get(run.strategy)!.push(run);
  }
  return order.map((strategy) => {
    const rs = by.get(strategy)!;
    // Without labels (no test set) there is no accuracy to summarize: only the stopping advice.
    const tested = rs.every((r) => evaluated(r.rounds));
    const finals = rs.map((r) => r.rounds[r.rounds.length - 1]!.accuracy ?? Number.NaN);
    const perRepeat = rs.map((r) => labelsToReach(r.rounds, target));
    const reachedValues = perRepeat.filter((v): v is number => v !== null);
    const advised = rs.some((r) => r.rounds.some((x) => x.stopping));
    const random = by.get('random');
    return {
      strategy,
      repeats: rs.length,
      finalAccuracy: tested ? { mean: mean(finals), std: std(finals) } : null,
      alc: tested ? mean(rs.map((r) => areaUnderLearningCurve(r.rounds))) : null,
      labelsToTarget: { target, mean: reachedValues.length ? mean(reachedValues) : null, reached: reachedValues.length, perRepeat },
      ...(advised ? { stopping: STOP_CRITERIA.map((c) => stopSummary(c, rs)) } : {}),
      vsRandom: strategy === 'random' || random === undefined || !tested ? null : compareRuns(strategy, rs, 'random', random, target),
    };
  });
}

/** Where `criterion` advised stopping in each of `runs`, against where each run ended. */
export function stopSummary(criterion: StopCriterion, runs: readonly RunRecord[]): StopSummary {
  const at: { labels: number; saved: number; lost: number | null }[] = [];
  for (const run of runs) {
    const round = stopRound(criterion, run.rounds, run.stopped);
    const r = round === null ? undefined : run.rounds.find((x) => x.round === round);
    const last = run.rounds[run.rounds.length - 1];
    if (r && last) at.push({ labels: r.labeled, saved: last.labeled - r.labeled, lost: last.accuracy === null || r.accuracy === null ? null : last.accuracy - r.accuracy });
  }
  const m = (f: (x: (typeof at)[number]) => number) => (at.length ? mean(at.map(f)) : null);
  const lost = at.every((x) => x.lost !== null) ? m((x) => x.lost!) : null;
  return { criterion, reached: at.length, labels: m((x) => x.labels), saved: m((x) => x.saved), accuracyLost: lost };
}

/** An accuracy as a percentage with `digits` decimals ("91.5%"); for null (not evaluated: no labeled test data) "no test accuracy". */
export const accuracyText = (x: number | null, digits = 1): string => (x === null ? 'no test accuracy' : `${(x * 100).toFixed(digits)}%`);

/** `x` with `digits` decimals; empty for null (a round not evaluated: no labels to test against). */
const fixed = (x: number | null, digits: number) => (x === null ? '' : x.toFixed(digits));

/** One row per (strategy, repeat, round): the learning curves in a spreadsheet-friendly form (accuracy, loss and ECE empty where not evaluated). */
export function resultsToCsv(results: ExperimentResults): string {
  const header = ['strategy', 'repeat', 'round', 'labeled', 'accuracy', 'loss', 'ece', 'temperature', 'train_ms', 'predict_ms', 'score_ms', 'select_ms', 'evaluate_ms', 'class_counts', 'selected'];
  const lines = [header.join(',')];
  for (const run of results.runs) {
    for (const r of run.rounds) {
      lines.push(
        [
          run.strategy, run.repeat, r.round, r.labeled, fixed(r.accuracy, 6), fixed(r.loss, 6), fixed(r.ece, 6), r.calibration ? r.calibration.temperature.toFixed(4) : '',
          r.ms.train.toFixed(1), r.ms.predict.toFixed(1), r.ms.score.toFixed(1), r.ms.select.toFixed(1), r.ms.evaluate.toFixed(1),
          `"${r.classCounts.join(' ')}"`, `"${r.selected.join(' ')}"`,
        ].join(','),
      );
    }
  }
  return lines.join('\n') + '\n';
}

/** Mean and std of accuracy per labeled count, per strategy: the data of a learning-curve chart. */
export interface CurvePoint {
  strategy: string;
  labeled: number;
  mean: number;
  std: number;
  n: number;
}

export function learningCurves(runs: readonly RunRecord[]): CurvePoint[] {
  const acc = new Map<string, Map<number, number[]>>();
  for (const run of runs) {
    const m = acc.get(run.strategy) ?? new Map<number, number[]>();
    acc.set(run.strategy, m);
    for (const r of run.rounds) {
      if (r.accuracy === null) continue; // not evaluated: no point on the curve
      const list = m.get(r.labeled) ?? [];
      list.push(r.accuracy);
      m.set(r.labeled, list);
    }
  }
  const points: CurvePoint[] = [];
  for (const [strategy, m] of acc) {
    for (const labeled of [...m.keys()].sort((a, b) => a - b)) {
      const xs = m.get(labeled)!;
      points.push({ strategy, labeled, mean: mean(xs), std: std(xs), n: xs.length });
    }
  }
  return points;
}

/** How the summary shows one criterion's advice: labels at it (repeats that reached it), labels saved and accuracy given up. */
export function stopAdviceText(s: StopSummary, repeats: number): string {
  if (s.labels === null || s.saved === null) return 'not yet';
  if (s.accuracyLost === null) return `${Math.round(s.labels)}${repeats > 1 ? ` (${s.reached}/${repeats})` : ''}: saves ${Math.round(s.saved)}`;
  const lost = s.accuracyLost * 100;
  return `${Math.round(s.labels)}${repeats > 1 ? ` (${s.reached}/${repeats})` : ''}: saves ${Math.round(s.saved)}, ${lost >= 0 ? '−' : '+'}${Math.abs(lost).toFixed(1)} pts`;
}

/** A "stop here" marker for the learning curve: where a strategy's predictions became stable. */
export interface StopMarker {
  strategy: string;
  labeled: number;
  text: string;
}

/**
 * Per strategy, where the stabilizing-predictions criterion first held: a run's round ("predictions
 * stable since round 12: stop here"), or over repeats the mean labels of those where it held.
 */
export function stopMarkers(runs: readonly RunRecord[]): StopMarker[] {
  const by = new Map<string, RunRecord[]>();
  for (const run of runs) if (run.rounds.length > 0) by.set(run.strategy, [...(by.get(run.strategy) ?? []), run]);
  const markers: StopMarker[] = [];
  for (const [strategy, rs] of by) {
    const at = rs.flatMap((run) => {
      const round = stopRound('stabilizing', run.rounds, run.stopped?.criterion === 'stabilizing' ? run.stopped : undefined);
      const r = round === null ? undefined : run.rounds.find((x) => x.round === round);
      return r ? [r] : [];
    });
    if (at.length === 0) continue;
    if (rs.length === 1) markers.push({ strategy, labeled: at[0]!.labeled, text: `${strategy}: predictions stable since round ${at[0]!.round}: stop here` });
    else markers.push({ strategy, labeled: mean(at.map((r) => r.labeled)), text: `${strategy}: predictions stable at ${Math.round(mean(at.map((r) => r.labeled)))} labels (${at.length}/${rs.length} repeats): stop here` });
  }
  return markers;
}
