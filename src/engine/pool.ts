/**
 * Pool state: which train rows are labeled, when, and which are held out. One typed array of
 * marks per run (`labeledAtRound`, as baal's `labelled_map`): -1 in the pool, -2 held out for
 * validation, r >= 0 labeled in round r.
 */
import type { Dataset } from '../../datasets/index.ts';
import type { Rng } from '../rng.ts';
import type { ExperimentConfig } from './config.ts';
import { asDatasetRows, type DatasetRows } from './rows.ts';
import { repeatStream } from './streams.ts';

const IN_POOL = -1;
const HELD_OUT = -2;

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
  return { validationRows, validationLabels, initial, marks };
}

/** One run's pool: starts from its repeat's split with the initial set labeled in round 0. */
export class Pool {
  private readonly marks: Int32Array;

  constructor(split: RepeatSplit) {
    this.marks = Int32Array.from(split.marks);
    this.label(split.initial, 0);
  }

  /** Rows still in the pool (neither labeled nor held out), ascending. */
  unlabeled(): DatasetRows {
    return asDatasetRows(Int32Array.from(this.marks.keys()).filter((i) => this.marks[i] === IN_POOL));
  }

  /** Rows labeled in rounds 0 to `upTo` (every labeled row when omitted), ascending. */
  labeled(upTo = Infinity): DatasetRows {
    return asDatasetRows(Int32Array.from(this.marks.keys()).filter((i) => this.marks[i]! >= 0 && this.marks[i]! <= upTo));
  }

  /** The oracle's answer: these rows join the labeled set in `round`. */
  label(rows: DatasetRows, round: number): void {
    for (const i of rows) this.marks[i] = round;
  }

  /** Why row `i` cannot be labeled now (not a train row, held out, already labeled), or null if it can. */
  whyNotLabelable(i: number): string | null {
    if (Number.isInteger(i) && i >= 0 && i < this.marks.length && this.marks[i] === IN_POOL) return null;
    const mark = this.marks[i];
    return mark === undefined ? 'not a training row' : mark === HELD_OUT ? 'held out for validation' : 'already labeled';
  }
}
