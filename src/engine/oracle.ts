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

/** One label per queried row, in the query's order: a class 0..C-1, or -1 to skip the row. */
export type Oracle = (query: OracleQuery) => Promise<ArrayLike<number>>;

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
export function simulatedOracle(dataset: Pick<LabeledRows, 'train'>): Oracle {
  return async ({ indices }) => Int32Array.from(indices, (i) => dataset.train.y[i]!);
}

/**
 * The noisy simulated oracle: the dataset's label, except that with probability `noise` it is
 * replaced by one of the other classes drawn uniformly. Each (repeat, strategy, round) query draws
 * from its own stream named under `seed`, so the same seed gives the same answers (and a resumed run
 * the same answers as an uninterrupted one).
 */
export function noisyOracle(dataset: LabeledRows, noise: number, seed: number): Oracle {
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
 * 0..numClasses-1 or -1 (skip). A rejection, a wrong count or a bad label is an `OracleError`
 * saying which (an `AbortError` rejection is passed on as it is: the run was stopped).
 */
export async function askOracle(oracle: Oracle, query: OracleQuery, numClasses: number): Promise<Int32Array> {
  const at = `${query.strategy}, repeat ${query.repeat}, round ${query.round}`;
  let answer: ArrayLike<number>;
  try {
    answer = await oracle(query);
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err;
    throw new OracleError(`the oracle failed (${at}): ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
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
  return labels;
}
