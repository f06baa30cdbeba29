/**
 * Resuming an earlier run (`RunOptions.resume`): checking that its results belong to this
 * configuration, taking over an interrupted run's completed rounds, and rebuilding the model of
 * its last kept round by replaying that round's training (every kept round's, with warm start)
 * with the same seeds.
 */
import type { ExperimentConfig } from './config.ts';
import type { Pool } from './pool.ts';
import type { ExperimentResults, RoundRecord, RunRecord } from './results.ts';
import { asDatasetRows } from './rows.ts';
import { addedRowSize, train, where, type RunScope } from './round.ts';
import { decodePixels } from './added.ts';
import type { AddedExample } from './oracle.ts';

/** The earlier results handed to `RunOptions.resume` do not belong to this configuration. */
export class ResumeError extends Error {
  override readonly name = 'ResumeError';
}

/** Config fields that may differ between a run and the one it resumes (they do not change what is computed). */
const RESUME_MAY_DIFFER: ReadonlySet<keyof ExperimentConfig> = new Set(['backend']);

export const runKey = (strategy: string, repeat: number): string => `${strategy}#${repeat}`;

/** Checks that `prior` can be resumed under `config`; returns its runs by `runKey`. */
export function resumable(config: ExperimentConfig, prior: Pick<ExperimentResults, 'config' | 'runs'>): Map<string, RunRecord> {
  for (const key of Object.keys(config) as (keyof ExperimentConfig)[]) {
    if (RESUME_MAY_DIFFER.has(key)) continue;
    const a = JSON.stringify(config[key]);
    const b = JSON.stringify(prior.config?.[key]);
    if (a !== b) throw new ResumeError(`cannot resume: config.${key} is ${a} now but was ${b ?? 'missing'} in the run being resumed`);
  }
  const byKey = new Map<string, RunRecord>();
  for (const run of prior.runs) {
    const key = runKey(run.strategy, run.repeat);
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
  ...(r.labels ? { labels: [...r.labels] } : {}),
  ...(r.agreed ? { agreed: [...r.agreed] } : {}),
  ...(r.added ? { added: r.added.map((e) => ({ ...e })) } : {}),
  ...(r.stopping ? { stopping: { ...r.stopping } } : {}),
  ms: { ...r.ms },
});

/** A run that ended before (complete, exhausted, or with all its rounds), kept as it was: null if it did not end. */
export function finishedRun(earlier: RunRecord, config: ExperimentConfig): RunRecord | null {
  if (earlier.status !== 'complete' && earlier.status !== 'exhausted' && earlier.rounds.length !== config.rounds + 1) return null;
  return {
    strategy: earlier.strategy, repeat: earlier.repeat, status: earlier.status === 'exhausted' ? 'exhausted' : 'complete',
    ...(earlier.oracle ? { oracle: earlier.oracle } : {}),
    ...(earlier.stopped ? { stopped: { ...earlier.stopped } } : {}),
    rounds: earlier.rounds.map(copyRound),
  };
}

/**
 * Takes over an interrupted run's completed rounds: checks its round 0 against this
 * configuration's initial set (on a dataset without labels, re-applying the labels the oracle gave
 * it), and re-applies each later selection to `pool` with the labels the
 * oracle gave then (`labels`; the dataset's for results without them), checking it against the
 * pool, and the examples added then (`added`). Returns copies of the rounds, in order.
 */
export function takeOver(scope: RunScope, pool: Pool, earlier: RunRecord): RoundRecord[] {
  const run = `${scope.strategyName}, repeat ${scope.repeat}`;
  const initial = scope.split.initial;
  const r0 = earlier.rounds[0]!;
  if (r0.selected.length !== initial.length || r0.selected.some((i, j) => i !== initial[j])) {
    throw new ResumeError(`cannot resume ${run}: its round-0 labeled set is not the one this configuration draws (different data or seed?)`);
  }
  const numClasses = scope.dataset.numClasses;
  if (scope.dataset.unlabeled) {
    // Without labels the oracle labeled the initial set too: its answers are round 0's labels.
    const given = r0.labels;
    if (!given || given.length !== initial.length || given.some((l) => !(Number.isInteger(l) && l >= -1 && l < numClasses))) {
      throw new ResumeError(`cannot resume ${run}: its round 0 has no labels for the ${initial.length} rows of the initial set, one each (a class 0 to ${numClasses - 1} or -1), and ${scope.dataset.name} has none of its own`);
    }
    pool.label(initial, 0, given);
  }
  for (const rec of earlier.rounds.slice(1)) {
    if (rec.labels && rec.labels.length !== rec.selected.length) {
      throw new ResumeError(`cannot resume ${run}: round ${rec.round} has ${rec.labels.length} labels for ${rec.selected.length} selected rows`);
    }
    rec.selected.forEach((i, j) => {
      const why = pool.whyNotLabelable(i);
      if (why) throw new ResumeError(`cannot resume ${run}: round ${rec.round} selected row ${i}, which is ${why}`);
      const given = rec.labels?.[j];
      if (given !== undefined && !(Number.isInteger(given) && given >= -1 && given < numClasses)) {
        throw new ResumeError(`cannot resume ${run}: round ${rec.round} gave row ${i} the label ${given}, not a class 0 to ${numClasses - 1} or -1 (skip)`);
      }
      // a record's `selected` are train rows
      pool.label(asDatasetRows(Int32Array.of(i)), rec.round, given === undefined ? undefined : [given]);
    });
    if (rec.added?.length) pool.add(keptAdded(scope, rec, run), rec.round);
  }
  return earlier.rounds.map(copyRound);
}

/** A kept round's added examples, decoded and checked against the dataset. */
function keptAdded(scope: RunScope, rec: RoundRecord, run: string): AddedExample[] {
  const d = addedRowSize(scope.dataset);
  const numClasses = scope.dataset.numClasses;
  return (rec.added ?? []).map((e, j) => {
    if (d === null) throw new ResumeError(`cannot resume ${run}: round ${rec.round} added examples, but ${scope.dataset.name} takes none (only uint8 images do)`);
    if (!(Number.isInteger(e.label) && e.label >= 0 && e.label < numClasses)) {
      throw new ResumeError(`cannot resume ${run}: round ${rec.round}'s added example ${j} has the label ${e.label}, not a class 0 to ${numClasses - 1}`);
    }
    const pixels = typeof e.pixels === 'string' ? decodePixels(e.pixels) : null;
    if (!pixels || pixels.length !== d) {
      throw new ResumeError(`cannot resume ${run}: round ${rec.round}'s added example ${j} has ${pixels ? `${pixels.length} values` : 'pixels that are not base64'}, not the ${d} of one example`);
    }
    return { label: e.label, pixels };
  });
}

/**
 * Rebuilds the learner's state after kept round `last`: its training replayed with the same seeds
 * (from round 0 with warm start), announced by a 'resume' event.
 */
export async function rebuildModel(scope: RunScope, pool: Pool, last: number): Promise<void> {
  const { config, report } = scope;
  const labels = pool.labeled(last).length + pool.added(last).length;
  await report.emit({
    type: 'resume', ...where(scope, last), labeled: labels,
    message: `continuing after round ${last}: ${last + 1} kept round${last === 0 ? '' : 's'}; retraining round ${last}'s model on its ${labels} labels${config.warmStart && last > 0 ? ` (warm start: replaying the training of rounds 0 to ${last})` : ''}`,
  });
  for (let r = config.warmStart ? 0 : last; r <= last; r++) {
    await report.phase('train', where(scope, r));
    await train(scope, pool.labeled(r), r, pool.added(r));
  }
}
