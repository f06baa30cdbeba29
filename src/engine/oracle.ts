/**
 * The oracle: who labels the rows a round queries. The loop receives it as a part
 * (`RunOptions.oracle`): an async function given the rows to label that resolves to one label per
 * row, -1 meaning "skip / don't know". The default is the simulated oracle, which answers with the
 * dataset's labels; with `config.oracleNoise` > 0 it is the noisy simulated oracle, which replaces
 * that fraction of its answers, drawn from its own seeded stream, by a uniformly drawn other class.
 *
 * The kind recorded in the results (`RunRecord.oracle`): 'simulated' or 'noisy' for the built-in
 * oracles; a caller's oracle is recorded as `RunOptions.oracleKind`, 'human' unless it says otherwise.
 */
import { stream } from './streams.ts';

/** What the simulated oracles read of a dataset (structural: this module reaches no tfjs, the results checks import it). */
export interface LabeledRows {
  train: { y: ArrayLike<number> };
  numClasses: number;
}

/** What the oracle is asked: the rows of one round's query, in the order the strategy chose them. */
export interface OracleQuery {
  strategy: string;
  repeat: number;
  round: number;
  /** Dataset (train split) rows to label. */
  indices: Int32Array;
}

/**
 * An example that is not a dataset row (e.g. a digit drawn on the page's pad), given with its label:
 * the row's values as the dataset stores them (uint8 pixels; only image datasets of uint8 pixels
 * take added examples).
 */
export interface AddedExample {
  label: number;
  pixels: Uint8Array;
}

/**
 * What an oracle answers: one label per queried row, in the query's order (a class 0..C-1, or -1
 * to skip the row); or those labels with examples `added` to the labeled set. Added examples join
 * the labeled set in the query's round, trained on from that round's training on, and are
 * recorded in its `RoundRecord.added`.
 */
export type OracleAnswer = ArrayLike<number> | { labels: ArrayLike<number>; added?: readonly AddedExample[] };

export type Oracle = (query: OracleQuery) => Promise<OracleAnswer>;

/** An oracle that only labels (adds nothing): the simulated ones. */
export type LabelingOracle = (query: OracleQuery) => Promise<ArrayLike<number>>;

/** The checked answer: the labels, and the examples added with them. */
export interface CheckedAnswer {
  labels: Int32Array;
  added: AddedExample[];
}

/** Most examples one answer may add (a person drawing digits adds a few). */
export const MAX_ADDED_PER_ROUND = 1000;

/** Who gave a run's labels, as its results record it. */
export type OracleKind = 'simulated' | 'noisy' | 'human';

export const ORACLE_KINDS: readonly OracleKind[] = ['simulated', 'noisy', 'human'];

/** The label that means "skip / don't know": the row leaves the pool unlabeled and is never asked again. */
export const SKIP = -1;

/** The oracle answered wrongly (count, value) or failed; the message says which and where. */
export class OracleError extends Error {
  override readonly name = 'OracleError';
}

/** The simulated oracle: the dataset's own labels. */
export function simulatedOracle(dataset: Pick<LabeledRows, 'train'>): LabelingOracle {
  return async ({ indices }) => Int32Array.from(indices, (i) => dataset.train.y[i]!);
}

/**
 * The noisy simulated oracle: the dataset's label, except that with probability `noise` it is
 * replaced by one of the other classes drawn uniformly. Each (repeat, strategy, round) query draws
 * from its own stream named under `seed`, so the same seed gives the same answers (and a resumed run
 * the same answers as an uninterrupted one).
 */
export function noisyOracle(dataset: LabeledRows, noise: number, seed: number): LabelingOracle {
  if (!(noise >= 0 && noise < 1)) throw new RangeError(`noisyOracle: noise must be in [0, 1), got ${noise}`);
  const c = dataset.numClasses;
  return async ({ strategy, repeat, round, indices }) => {
    const rng = stream(seed, `repeat:${repeat}`, `strategy:${strategy}`, `round:${round}`, 'oracle-noise');
    return Int32Array.from(indices, (i) => {
      const truth = dataset.train.y[i]!;
      if (c < 2 || rng.next() >= noise) return truth;
      const other = rng.int(c - 1); // 0..C-2, shifted past the true class
      return other >= truth ? other + 1 : other;
    });
  };
}

/**
 * Asks `oracle` for `query`'s labels and checks the answer: one integer label per row, each a class
 * 0..numClasses-1 or -1 (skip), and any added examples (a class each, `rowSize` uint8 values;
 * `rowSize` null: the dataset takes none). A rejection, a wrong count, a bad label or a bad added
 * example is an `OracleError` saying which (an `AbortError` rejection is passed on as it is: the
 * run was stopped).
 */
export async function askOracle(oracle: Oracle, query: OracleQuery, numClasses: number, rowSize: number | null = null): Promise<CheckedAnswer> {
  const at = `${query.strategy}, repeat ${query.repeat}, round ${query.round}`;
  let reply: OracleAnswer;
  try {
    reply = await oracle(query);
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err;
    throw new OracleError(`the oracle failed (${at}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const bundled = reply !== null && typeof reply === 'object' && 'labels' in reply && !('length' in reply);
  const answer = bundled ? (reply as { labels: ArrayLike<number> }).labels : reply as ArrayLike<number>;
  if (answer === null || typeof answer !== 'object' || typeof answer.length !== 'number') {
    throw new OracleError(`the oracle answered ${String(answer)} (${at}), not a list of labels`);
  }
  if (answer.length !== query.indices.length) {
    throw new OracleError(`the oracle returned ${answer.length} label${answer.length === 1 ? '' : 's'} for ${query.indices.length} queried row${query.indices.length === 1 ? '' : 's'} (${at})`);
  }
  const labels = new Int32Array(answer.length);
  for (let j = 0; j < answer.length; j++) {
    const v = answer[j]!;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < SKIP || v >= numClasses) {
      throw new OracleError(`the oracle's label ${String(v)} for row ${query.indices[j]} (${at}) is out of range: a class 0 to ${numClasses - 1}, or -1 to skip`);
    }
    labels[j] = v;
  }
  const added = bundled ? checkAdded((reply as { added?: unknown }).added, numClasses, rowSize, at) : [];
  return { labels, added };
}

/** The added examples of an answer, checked (copies of their pixels). */
function checkAdded(raw: unknown, numClasses: number, rowSize: number | null, at: string): AddedExample[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new OracleError(`the oracle's added examples (${at}) are ${typeof raw}, not a list`);
  if (raw.length === 0) return [];
  if (rowSize === null) throw new OracleError(`the oracle added ${raw.length} example${raw.length === 1 ? '' : 's'} (${at}), but only image datasets of uint8 pixels take added examples`);
  if (raw.length > MAX_ADDED_PER_ROUND) throw new OracleError(`the oracle added ${raw.length} examples (${at}): at most ${MAX_ADDED_PER_ROUND} a round`);
  return raw.map((e: unknown, j) => {
    const ex = e as Partial<AddedExample> | null;
    const label = ex?.label;
    if (typeof label !== 'number' || !Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new OracleError(`added example ${j} (${at}) has the label ${String(label)}: a class 0 to ${numClasses - 1}`);
    }
    const pixels = ex?.pixels;
    if (!(pixels instanceof Uint8Array) || pixels.length !== rowSize) {
      throw new OracleError(`added example ${j} (${at}) has ${pixels instanceof Uint8Array ? `${pixels.length} pixels` : 'no Uint8Array of pixels'}: ${rowSize} uint8 values, one example of the dataset`);
    }
    return { label, pixels: Uint8Array.from(pixels) };
  });
}
