/**
 * "Label it yourself", the page's model of it, DOM-free: one batch's answers and its keyboard
 * (digits label, Space skips, Backspace undoes the batch's last answer, Enter submits a batch
 * answered throughout), every label given in an experiment, and the labels CSV.
 */
import type { LabelQuery } from './protocol.ts';

/** -1: the person skipped the row ("don't know"); it leaves the pool unlabeled. */
export const SKIP = -1;

/** One answer: the label (or SKIP) given to the row at `position` of a round's batch. */
export interface LabelAnswer {
  strategy: string;
  repeat: number;
  round: number;
  /** Position in the batch (the order of the query's indices). */
  position: number;
  /** The dataset row (train split). */
  row: number;
  label: number;
  /** Seconds from the previous answer (or from the batch appearing) to this one. */
  seconds: number;
  /** The dataset's label of the row, where it has one. */
  truth: number | null;
}

/**
 * A digit drawn on the pad and added to the labeled set while round `round`'s batch waited: it joins
 * the labeled set with that batch's answer (`RoundRecord.added`).
 */
export interface DrawnExample {
  strategy: string;
  repeat: number;
  round: number;
  /** Its place among the digits added in that round. */
  position: number;
  label: number;
  /** 28x28 uint8, preprocessed as MNIST (digit.ts). */
  pixels: Uint8Array;
}

export type KeyAction =
  | { kind: 'label'; answer: LabelAnswer }
  | { kind: 'undo'; answer: LabelAnswer }
  | { kind: 'submit'; labels: number[] }
  /** Enter before every row has an answer: nothing happens, `missing` rows are left. */
  | { kind: 'incomplete'; missing: number }
  | { kind: 'none' };

/** One round's batch as the person answers it. */
export class LabelBatch {
  private readonly answers: (LabelAnswer | null)[];
  /** Positions in the order answered, for undo. */
  private readonly order: number[] = [];
  private last: number;

  /**
   * @param prior answers saved earlier for this batch (a reload mid-batch): those whose row matches
   *   the query's row at their position are kept, in position order.
   * @param now the clock (ms) the batch appeared at
   */
  constructor(readonly query: LabelQuery, readonly numClasses: number, prior: readonly LabelAnswer[] = [], now = 0) {
    this.answers = Array.from({ length: query.indices.length }, () => null);
    for (const a of [...prior].sort((x, y) => x.position - y.position)) {
      if (a.position < this.answers.length && query.indices[a.position] === a.row && a.round === query.round && validLabel(a.label, numClasses)) {
        this.answers[a.position] = a;
        this.order.push(a.position);
      }
    }
    this.last = now;
  }

  get size(): number {
    return this.answers.length;
  }

  /** The answer at `position`, or null. */
  at(position: number): LabelAnswer | null {
    return this.answers[position] ?? null;
  }

  /** The first row without an answer (null when every row has one). */
  get current(): number | null {
    const i = this.answers.indexOf(null);
    return i < 0 ? null : i;
  }

  get complete(): boolean {
    return this.current === null;
  }

  /** Gives the current row `label` (SKIP to skip); null when the batch is answered or the label is out of range. */
  answer(label: number, now: number): LabelAnswer | null {
    const p = this.current;
    if (p === null || !validLabel(label, this.numClasses)) return null;
    const q = this.query;
    const a: LabelAnswer = {
      strategy: q.strategy, repeat: q.repeat, round: q.round, position: p, row: q.indices[p]!, label,
      seconds: Math.max(0, (now - this.last) / 1000), truth: q.truth ? q.truth[p]! : null,
    };
    this.answers[p] = a;
    this.order.push(p);
    this.last = now;
    return a;
  }

  /** Takes back the batch's last answer; null when there is none. */
  undo(now: number): LabelAnswer | null {
    const p = this.order.pop();
    if (p === undefined) return null;
    const a = this.answers[p]!;
    this.answers[p] = null;
    this.last = now;
    return a;
  }

  /** One label per row (SKIP for skipped), in the query's order; null until every row has an answer. */
  labels(): number[] | null {
    return this.complete ? this.answers.map((a) => a!.label) : null;
  }

  /** What a key press does (`KeyboardEvent.key`): 0-9 label (below the class count), Space skips, Backspace undoes, Enter submits. */
  key(key: string, now: number): KeyAction {
    if (/^[0-9]$/.test(key)) {
      const a = Number(key) < this.numClasses ? this.answer(Number(key), now) : null;
      return a ? { kind: 'label', answer: a } : { kind: 'none' };
    }
    if (key === ' ' || key === 'Spacebar') {
      const a = this.answer(SKIP, now);
      return a ? { kind: 'label', answer: a } : { kind: 'none' };
    }
    if (key === 'Backspace') {
      const a = this.undo(now);
      return a ? { kind: 'undo', answer: a } : { kind: 'none' };
    }
    if (key === 'Enter') {
      const labels = this.labels();
      return labels ? { kind: 'submit', labels } : { kind: 'incomplete', missing: this.answers.filter((a) => a === null).length };
    }
    return { kind: 'none' };
  }
}

function validLabel(label: number, numClasses: number): boolean {
  return label === SKIP || (Number.isInteger(label) && label >= 0 && label < numClasses);
}

/** What the labels given so far add up to. */
export interface LabelStats {
  /** Rows given a class (skips not counted). */
  given: number;
  skipped: number;
  /** Share of the given labels that match the dataset's, over those whose dataset label is known; null when none is. */
  agreement: number | null;
  /** Mean seconds per answer (skips included); null before the first. */
  secondsPerLabel: number | null;
}

export function labelStats(answers: readonly LabelAnswer[]): LabelStats {
  let given = 0, skipped = 0, known = 0, agreed = 0, seconds = 0;
  for (const a of answers) {
    seconds += a.seconds;
    if (a.label === SKIP) {
      skipped++;
      continue;
    }
    given++;
    if (a.truth !== null) {
      known++;
      if (a.truth === a.label) agreed++;
    }
  }
  return { given, skipped, agreement: known ? agreed / known : null, secondsPerLabel: answers.length ? seconds / answers.length : null };
}

/** The answers in the order they belong: by repeat, round, then position in the batch. */
export function sortAnswers(answers: readonly LabelAnswer[]): LabelAnswer[] {
  return [...answers].sort((a, b) => a.repeat - b.repeat || a.round - b.round || a.position - b.position || a.strategy.localeCompare(b.strategy));
}

/**
 * The labels as CSV, one row per answer: `dataset_row,label,round,strategy,seconds,agreed`
 * (label -1 = skipped; agreed empty where the dataset's label is unknown or the row was skipped),
 * then each round's drawn digits with `dataset_row` 'drawn' (no seconds, no agreement).
 */
export function labelsToCsv(answers: readonly LabelAnswer[], drawn: readonly DrawnExample[] = []): string {
  const lines = ['dataset_row,label,round,strategy,seconds,agreed'];
  const rows = [
    ...sortAnswers(answers).map((a) => ({ a, line: [a.row, a.label, a.round, a.strategy, a.seconds.toFixed(3), a.label === SKIP || a.truth === null ? '' : String(a.truth === a.label)] })),
    ...sortDrawn(drawn).map((a) => ({ a, line: ['drawn', a.label, a.round, a.strategy, '', ''] })),
  ];
  // Stable: by repeat and round, the answers before the drawn digits of their round.
  rows.sort((x, y) => x.a.repeat - y.a.repeat || x.a.round - y.a.round);
  for (const r of rows) lines.push(r.line.join(','));
  return lines.join('\n') + '\n';
}

/** The drawn digits in the order they belong: by repeat, round, then position. */
export function sortDrawn(drawn: readonly DrawnExample[]): DrawnExample[] {
  return [...drawn].sort((a, b) => a.repeat - b.repeat || a.round - b.round || a.position - b.position || a.strategy.localeCompare(b.strategy));
}
