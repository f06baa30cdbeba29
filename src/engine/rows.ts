/**
 * Two kinds of index the loop handles, kept apart by type (both are Int32Array at run time):
 *
 * - `DatasetRows`: rows of the dataset's train split (what a learner trains on and predicts,
 *   what a round record's `selected` holds);
 * - `PoolPositions`: positions 0..N-1 in one round's list of N candidates (what a strategy
 *   selects). `rowsAt(candidates, positions)` is the only way from one to the other.
 *
 * Passing positions where rows are expected (baal issue #200) is then a compile error.
 */
declare const kind: unique symbol;

/** Indices of rows of the train split. */
export type DatasetRows = Int32Array & { readonly [kind]: 'dataset rows' };

/** Positions in a round's candidate list, 0..N-1. */
export type PoolPositions = Int32Array & { readonly [kind]: 'pool positions' };

/** Marks these indices as train-split rows (where the loop makes them: splits, filters, records). */
export const asDatasetRows = (indices: Int32Array): DatasetRows => indices as DatasetRows;

/** Marks these indices as candidate positions (at the acquisition boundary: what `acquire` returns). */
export const asPoolPositions = (indices: Int32Array): PoolPositions => indices as PoolPositions;

/** The dataset rows at `positions` of `candidates`, in the order of `positions`. */
export function rowsAt(candidates: DatasetRows, positions: PoolPositions): DatasetRows {
  return asDatasetRows(Int32Array.from(positions, (j) => candidates[j]!));
}
