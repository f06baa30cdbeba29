/** Input plumbing shared by the set strategies (diversity, batch-aware). */
import * as tf from '@tensorflow/tfjs';
import { SelectionError } from '../errors.ts';
import type { AcquisitionInputs } from '../types.ts';
import { checkMatrix } from './distance.ts';

/** Cluster count when neither an option, the probabilities' width nor `numClasses` gives one. @default 10 */
export const DEFAULT_CLUSTERS = 10;

/**
 * The [N, D] tensor `key` of the inputs, checked (rank 2, float32, N rows). Throws the same
 * message as the scoring strategies when the loop did not provide it.
 */
export function needRows(inputs: AcquisitionInputs, key: 'embeddings' | 'inputs' | 'probs', strategy: string): tf.Tensor2D {
  const v = inputs[key];
  if (v === undefined || v === null) {
    throw new SelectionError(`strategy '${strategy}' needs '${key}' but the loop did not provide it`);
  }
  checkMatrix(v, `strategy '${strategy}': ${key}`, inputs.n);
  return v;
}

/**
 * Number of clusters: the explicit option, else the width C of `inputs.probs`, else
 * `inputs.numClasses`, else DEFAULT_CLUSTERS (10).
 */
export function clusterCount(inputs: AcquisitionInputs, explicit: number | undefined, strategy: string): number {
  const k = explicit ?? inputs.probs?.shape[1] ?? inputs.numClasses ?? DEFAULT_CLUSTERS;
  if (!Number.isInteger(k) || k <= 0) {
    throw new SelectionError(`strategy '${strategy}': the number of clusters must be a positive integer, got ${k}`);
  }
  return k;
}

/** Rows not excluded, in index order. */
export function openRows(n: number, excluded: Uint8Array | null): Int32Array {
  if (excluded === null) return Int32Array.from({ length: n }, (_, i) => i);
  let m = 0;
  for (let i = 0; i < n; i++) if (excluded[i] === 0) m++;
  const out = new Int32Array(m);
  for (let i = 0, j = 0; i < n; i++) if (excluded[i] === 0) out[j++] = i;
  return out;
}

/** A float32 [N] mask: 1 for rows that may be chosen, 0 for excluded rows. */
export function eligibleMask(n: number, excluded: Uint8Array | null): tf.Tensor1D {
  if (excluded === null) return tf.ones([n]) as tf.Tensor1D;
  const m = new Float32Array(n);
  for (let i = 0; i < n; i++) m[i] = excluded[i] === 0 ? 1 : 0;
  return tf.tensor1d(m);
}
