import * as tf from '@tensorflow/tfjs';
import { SelectionError } from './errors.ts';

export interface SelectOptions {
  /**
   * Rows that must never be chosen (e.g. already labeled): pool indices, or a mask of
   * length N where non-zero means excluded.
   */
  exclude?: Int32Array | Uint8Array | readonly number[];
}

/**
 * The indices of the `k` highest scores, best first.
 *
 * - Excluded rows and NaN scores are never chosen; -Infinity is a valid (worst) score.
 * - Ties go to the lower index, on every backend.
 * - `k` above the number of candidates returns every candidate, best first.
 * - `k` must be a positive integer.
 *
 * It reads back the N scores (never N x C) with an async `data()`, so it does not block a
 * WebGL page, and selects on the CPU with a size-k heap in O(N log k). It does not call
 * `tf.topk`, which WebGL hands to the CPU with a blocking read for large inputs.
 * The caller keeps ownership of `scores`.
 *
 * @param scores [N] informativeness, higher = ask first
 * @example
 *   await selectTopK(tf.tensor1d([0.1, 0.9, 0.5]), 2)  // Int32Array [1, 2]
 */
export async function selectTopK(scores: tf.Tensor, k: number, options: SelectOptions = {}): Promise<Int32Array> {
  if (!(scores instanceof tf.Tensor) || scores.rank !== 1) {
    const got = scores instanceof tf.Tensor ? `shape [${scores.shape.join(', ')}]` : typeof scores;
    throw new SelectionError(`selectTopK: scores must be a rank-1 tensor [N], got ${got}`);
  }
  checkK(k);
  const n = scores.shape[0]!;
  const excluded = exclusionMask(options.exclude, n);
  const values = (await scores.data()) as Float32Array | Int32Array;
  return topKIndices(values, k, excluded);
}

/** Throws `SelectionError` unless k is a positive integer. */
export function checkK(k: number): void {
  if (!Number.isInteger(k) || k <= 0) {
    throw new SelectionError(`selectTopK: k must be a positive integer, got ${k}`);
  }
}

/** A mask of length n (1 = excluded) from pool indices or a mask; validates both. */
export function exclusionMask(exclude: SelectOptions['exclude'], n: number): Uint8Array | null {
  if (exclude === undefined) return null;
  if (exclude instanceof Uint8Array) {
    if (exclude.length !== n) {
      throw new SelectionError(`selectTopK: exclude mask has length ${exclude.length}, expected ${n} (one per score)`);
    }
    return exclude;
  }
  const mask = new Uint8Array(n);
  for (let i = 0; i < exclude.length; i++) {
    const j = exclude[i]!;
    if (!Number.isInteger(j) || j < 0 || j >= n) {
      throw new SelectionError(`selectTopK: exclude[${i}] = ${j} is not a pool index in [0, ${n})`);
    }
    mask[j] = 1;
  }
  return mask;
}

/**
 * CPU top-k over plain numbers: the `k` best indices, best first, skipping NaN and excluded
 * rows, ties to the lower index. Exported for the selectors built on it.
 */
export function topKIndices(values: ArrayLike<number>, k: number, excluded: Uint8Array | null = null): Int32Array {
  checkK(k);
  // Min-heap of (value, index) holding the best k so far; its root is the worst of them.
  // "a is worse than b" = a.value < b.value, or equal values and a.index > b.index.
  const hv = new Float64Array(k);
  const hi = new Int32Array(k);
  let size = 0;
  const worse = (va: number, ia: number, vb: number, ib: number) => va < vb || (va === vb && ia > ib);
  const siftDown = (pos: number) => {
    const v = hv[pos]!, idx = hi[pos]!;
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= size) break;
      const r = l + 1;
      const c = r < size && worse(hv[r]!, hi[r]!, hv[l]!, hi[l]!) ? r : l;
      if (!worse(hv[c]!, hi[c]!, v, idx)) break;
      hv[pos] = hv[c]!; hi[pos] = hi[c]!;
      pos = c;
    }
    hv[pos] = v; hi[pos] = idx;
  };
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== v || (excluded !== null && excluded[i] !== 0)) continue; // NaN or excluded
    if (size < k) {
      // sift up
      let pos = size++;
      while (pos > 0) {
        const parent = (pos - 1) >> 1;
        if (!worse(v, i, hv[parent]!, hi[parent]!)) break;
        hv[pos] = hv[parent]!; hi[pos] = hi[parent]!;
        pos = parent;
      }
      hv[pos] = v; hi[pos] = i;
    } else if (v > hv[0]! || (v === hv[0]! && i < hi[0]!)) {
      // (the root is worse than this row; written out: this is the hot path)
      hv[0] = v; hi[0] = i;
      siftDown(0);
    }
  }
  const out = new Int32Array(size);
  for (let j = size - 1; j >= 0; j--) {
    out[j] = hi[0]!; // pop the worst into the back
    hv[0] = hv[size - 1]!; hi[0] = hi[size - 1]!;
    size--;
    siftDown(0);
  }
  return out;
}
