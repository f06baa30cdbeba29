/**
 * Pool state: which train rows are labeled, when, with which label, and which are held out or
 * skipped. One typed array of marks per run (`labeledAtRound`, as baal's `labelled_map`): -1 in the
 * pool, -2 held out for validation, -3 skipped by the oracle (out of the pool, never trained on),
 * r >= 0 labeled in round r; and one array of the labels the run trains on (the dataset's, with the
 * oracle's answers written over them as they come); and the examples added to the labeled set that
 * are not dataset rows (a drawn digit), each with the round it joined in.
 */
import type { Dataset } from '../../datasets/index.ts';
import type { Rng } from '../rng.ts';
import type { ExperimentConfig } from './config.ts';
import type { AddedExample } from './oracle.ts';
import { asDatasetRows, type DatasetRows } from './rows.ts';
import { repeatStream } from './streams.ts';

const IN_POOL = -1;
const HELD_OUT = -2;
const SKIPPED = -3;

/** The initial labeled set: `size` of the train rows `candidates`, balanced per class (remainder to the lowest classes) or at random. */
export function initialSet(y: Uint8Array, candidates: Int32Array, size: number, numClasses: number, balanced: boolean, rng: Rng): DatasetRows {
  if (size > candidates.length) throw new RangeError(`initial set of ${size} from a pool of ${candidates.length}`);
  const order = rng.shuffle(Int32Array.from(candidates));
  if (!balanced) return asDatasetRows(order.slice(0, size).sort());
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
  return asDatasetRows(Int32Array.from(chosen).sort());
}

/** What one repeat draws, the same for every strategy: the validation hold-out and the initial set. */
export interface RepeatSplit {
  /** Rows held out for temperature scaling, ascending; never queried, never trained on. */
  readonly validationRows: DatasetRows;
  /** Their labels, in the same order. */
  readonly validationLabels: Uint8Array;
  /** The round-0 labeled set, ascending. */
  readonly initial: DatasetRows;
  /** The marks with the validation rows held out and nothing labeled. */
  readonly marks: Int32Array;
  /** The stop set of the stopping advice (`config.stopSet` pool rows outside the initial set), ascending; empty without advice. */
  readonly stopRows: DatasetRows;
}

/** Draws repeat `repeat`'s split of the train rows from its named streams. */
export function splitRepeat(config: ExperimentConfig, dataset: Dataset<string>, repeat: number): RepeatSplit {
  const n = dataset.train.n;
  const marks = new Int32Array(n).fill(IN_POOL);
  if (config.validation > 0) for (const i of repeatStream(config.seed, repeat, 'validation').sample(n, config.validation)) marks[i] = HELD_OUT;
  const rows = Int32Array.from(marks.keys());
  const poolRows = asDatasetRows(rows.filter((i) => marks[i] === IN_POOL));
  const validationRows = asDatasetRows(rows.filter((i) => marks[i] === HELD_OUT));
  const validationLabels = Uint8Array.from(validationRows, (i) => dataset.train.y[i]!);
  const initial = initialSet(dataset.train.y, poolRows, config.initial, dataset.numClasses, config.balanced, repeatStream(config.seed, repeat, 'initial'));
  const inInitial = new Set(initial);
  const unlabeled = poolRows.filter((i) => !inInitial.has(i));
  const stopSize = Math.min(config.stopSet, unlabeled.length);
  const stopRows = asDatasetRows(stopSize > 0 ? Int32Array.from(repeatStream(config.seed, repeat, 'stop-set').sample(unlabeled.length, stopSize), (j) => unlabeled[j]!).sort() : new Int32Array(0));
  return { validationRows, validationLabels, initial, marks, stopRows };
}

/**
 * One run's pool: starts from its repeat's split with the initial set labeled in round 0 with the
 * dataset's labels `y`; with `initialLabeled` false (a dataset without labels), the initial set
 * stays in the pool until the oracle's answer labels it (`label(split.initial, 0, answer)`).
 */
export class Pool {
  private readonly marks: Int32Array;
  /** The label of every train row as this run knows it: what the learner trains on for the labeled rows. */
  readonly labels: Uint8Array;
  /** Examples added that are not dataset rows, in the order added, with the round each joined in. */
  private readonly extra: { round: number; example: AddedExample }[] = [];

  constructor(split: RepeatSplit, y: Uint8Array, initialLabeled = true) {
    this.marks = Int32Array.from(split.marks);
    this.labels = Uint8Array.from(y);
    if (initialLabeled) this.label(split.initial, 0);
  }

  /** Rows still in the pool (neither labeled nor held out), ascending. */
  unlabeled(): DatasetRows {
    return asDatasetRows(Int32Array.from(this.marks.keys()).filter((i) => this.marks[i] === IN_POOL));
  }

  /** Rows labeled in rounds 0 to `upTo` (every labeled row when omitted), ascending. */
  labeled(upTo = Infinity): DatasetRows {
    return asDatasetRows(Int32Array.from(this.marks.keys()).filter((i) => this.marks[i]! >= 0 && this.marks[i]! <= upTo));
  }

  /**
   * The oracle's answer: these rows join the labeled set in `round`, each with its label in
   * `given` (same order; default the labels the pool already holds, i.e. the dataset's), and a
   * row given -1 is skipped: it leaves the pool unlabeled.
   */
  label(rows: DatasetRows, round: number, given?: ArrayLike<number>): void {
    rows.forEach((i, j) => {
      const v = given ? given[j]! : this.labels[i]!;
      if (v < 0) {
        this.marks[i] = SKIPPED;
        return;
      }
      this.marks[i] = round;
      this.labels[i] = v;
    });
  }

  /** Examples that are not dataset rows join the labeled set in `round` (after those added before). */
  add(examples: readonly AddedExample[], round: number): void {
    for (const example of examples) this.extra.push({ round, example });
  }

  /** The added examples that joined in rounds 0 to `upTo` (all when omitted), in the order added. */
  added(upTo = Infinity): AddedExample[] {
    return this.extra.filter((e) => e.round <= upTo).map((e) => e.example);
  }

  /** Rows the oracle skipped, ascending. */
  skipped(): DatasetRows {
    return asDatasetRows(Int32Array.from(this.marks.keys()).filter((i) => this.marks[i] === SKIPPED));
  }

  /** Why row `i` cannot be labeled now (not a train row, held out, already labeled), or null if it can. */
  whyNotLabelable(i: number): string | null {
    if (Number.isInteger(i) && i >= 0 && i < this.marks.length && this.marks[i] === IN_POOL) return null;
    const mark = this.marks[i];
    return mark === undefined ? 'not a training row' : mark === HELD_OUT ? 'held out for validation' : mark === SKIPPED ? 'already skipped' : 'already labeled';
  }
}
