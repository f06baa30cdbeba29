/**
 * Advice on when to stop labeling, recorded each round (`RoundRecord.stopping`) from a fixed
 * seeded stop set of unlabeled rows (`config.stopSet`, drawn per repeat from the pool):
 *
 * - stabilizing predictions (Bloodgood & Vijay-Shanker 2009): Cohen's kappa between the stop-set
 *   predictions of successive rounds' models; the criterion holds once the mean of the last
 *   `window` = 3 kappas reaches 0.99 (their defaults, as small-text's KappaAverage);
 * - overall uncertainty (Zhu et al. 2008): the mean normalised entropy of the model's
 *   predictions on the stop set falls under a threshold;
 * - max confidence (Zhu et al. 2008): the rows a round queries were all confident already: the
 *   largest normalised entropy among them, under the model that chose them, falls under a
 *   threshold. It is recorded in the round that queried them and advises stopping one round
 *   earlier (the model that chose them).
 *
 * Entropy is normalised by ln C (0: certain, 1: uniform), so one threshold serves any number of
 * classes. The uncertainty thresholds are ActiveLab's choices: Zhu et al. tuned theirs per task.
 * Computed on the device (`stop-set.ts`); only the stop set's predicted classes (S small
 * integers) and scalars are read back. Plain functions of the records here, no tfjs, so the page
 * and the CLI show the same advice.
 */

export type StopCriterion = 'stabilizing' | 'overall-uncertainty' | 'max-confidence';
export const STOP_CRITERIA: readonly StopCriterion[] = ['stabilizing', 'overall-uncertainty', 'max-confidence'];

/** What `config.stopWhen` may be: a criterion that ends a run when it holds, or 'never'. */
export type StopWhen = StopCriterion | 'never';
export const STOP_WHEN: readonly StopWhen[] = ['never', ...STOP_CRITERIA];

/** The rules' parameters. */
export const STOPPING = {
  /** Bloodgood & Vijay-Shanker: the mean of the last `window` kappas at least `kappa`. */
  kappa: 0.99,
  window: 3,
  /** Mean normalised entropy on the stop set below this. */
  overallUncertainty: 0.05,
  /** Largest normalised entropy among a round's queried rows below this. */
  maxConfidence: 0.05,
} as const;

/** What a round records for the advice (null where it does not apply). */
export interface StoppingRecord {
  /** Cohen's kappa between this round's and the previous round's stop-set predictions; null in round 0. */
  kappa: number | null;
  /** Mean normalised entropy of this round's model on the stop set. */
  overallUncertainty: number;
  /** Largest normalised entropy among this round's queried rows under the model that chose them; null in round 0. */
  maxConfidence: number | null;
}

/** A run ended by `config.stopWhen`: the criterion, and the last round it kept (the one the criterion advised). */
export interface StopRecord {
  criterion: StopCriterion;
  round: number;
}

/**
 * Cohen's kappa of two labelings of the same items, (po - pe) / (1 - pe). When chance agreement
 * is total (both give every item the same single class) kappa is 1 if they agree, as in small-text.
 */
export function cohenKappa(a: ArrayLike<number>, b: ArrayLike<number>, numClasses: number): number {
  if (a.length !== b.length) throw new RangeError(`cohenKappa: ${a.length} and ${b.length} labels`);
  const n = a.length;
  if (n === 0) throw new RangeError('cohenKappa: no labels');
  const ca = new Float64Array(numClasses);
  const cb = new Float64Array(numClasses);
  let agree = 0;
  for (let i = 0; i < n; i++) {
    const x = a[i]!, y = b[i]!;
    if (!(x >= 0 && x < numClasses && y >= 0 && y < numClasses)) throw new RangeError(`cohenKappa: label ${x} or ${y} at ${i} is not a class 0 to ${numClasses - 1}`);
    ca[x]!++;
    cb[y]!++;
    if (x === y) agree++;
  }
  const po = agree / n;
  let pe = 0;
  for (let c = 0; c < numClasses; c++) pe += (ca[c]! / n) * (cb[c]! / n);
  if (pe >= 1) return po === 1 ? 1 : 0;
  return (po - pe) / (1 - pe);
}

/** Round at which each criterion first holds, and what stopping there would have given. */
export interface StopAdvice {
  criterion: StopCriterion;
  /** The round to stop at (its model is kept); null if the criterion never held. */
  round: number | null;
  /** Labels at that round, its test accuracy; null with `round` (accuracy also where the round was not evaluated). */
  labeled: number | null;
  accuracy: number | null;
}

interface AdviceRound {
  round: number;
  labeled: number;
  /** Null where the round was not evaluated (a dataset without labels). */
  accuracy: number | null;
  stopping?: StoppingRecord | null;
}

/** The first round at which `criterion` holds in `rounds` (ordered 0, 1, ...); null if none. */
export function stopRound(criterion: StopCriterion, rounds: readonly AdviceRound[], stopped?: StopRecord): number | null {
  if (stopped?.criterion === criterion) return stopped.round;
  for (let i = 0; i < rounds.length; i++) {
    const s = rounds[i]!.stopping;
    if (!s) continue;
    if (criterion === 'stabilizing') {
      if (i + 1 < STOPPING.window) continue;
      const last = rounds.slice(i + 1 - STOPPING.window, i + 1).map((r) => r.stopping?.kappa ?? null);
      if (last.every((k) => k !== null) && last.reduce((a: number, k) => a + k!, 0) / STOPPING.window >= STOPPING.kappa) return rounds[i]!.round;
    } else if (criterion === 'overall-uncertainty') {
      if (s.overallUncertainty < STOPPING.overallUncertainty) return rounds[i]!.round;
    } else if (s.maxConfidence !== null && s.maxConfidence < STOPPING.maxConfidence) {
      return rounds[i]!.round - 1; // the model that chose these rows
    }
  }
  return null;
}

/** Every criterion's advice for one run. */
export function stoppingAdvice(rounds: readonly AdviceRound[], stopped?: StopRecord): StopAdvice[] {
  return STOP_CRITERIA.map((criterion) => {
    const round = stopRound(criterion, rounds, stopped);
    const at = round === null ? undefined : rounds.find((r) => r.round === round);
    return { criterion, round: at ? round : null, labeled: at?.labeled ?? null, accuracy: at?.accuracy ?? null };
  });
}
