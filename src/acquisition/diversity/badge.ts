/**
 * BADGE (Ash et al. 2020, "Deep Batch Active Learning by Diverse, Uncertain Gradient Lower
 * Bounds"): k-means++ seeding on gradient embeddings of the last layer.
 *
 * For a softmax output with the hypothesised label ŷ = argmax p, the gradient of the
 * cross-entropy with respect to the last layer's weights is g = (p - e_ŷ) ⊗ h, with h the
 * penultimate embedding: its norm is large where the model is uncertain (p far from e_ŷ) and
 * its direction spreads the batch. g is never materialised ([N, C*D]): with q = p - e_ŷ,
 *
 *   <g_i, g_j> = <q_i, q_j> <h_i, h_j>,   ||g_i - g_j||^2 = ||q_i||^2 ||h_i||^2 + ||q_j||^2 ||h_j||^2 - 2 <q_i, q_j> <h_i, h_j>,
 *
 * so each seeding step needs two N x 1 products and [N] vectors only.
 *
 * Memory: [N, C] for q, [N]-vectors; work O(N k (C + D)). Readback: one index per pick.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng.ts';
import { STRATEGY_CATALOG } from '../catalog.ts';
import { SelectionError } from '../errors.ts';
import { exclusionMask, type SelectOptions } from '../select.ts';
import type { AcquisitionInputs, SetStrategy } from '../types.ts';
import { eligibleMask, needRows, openRows } from './common.ts';
import { argMaxIndex, checkMatrix, DUPLICATE_REL_TOL, pickD2, rows, sqNorms } from './distance.ts';

export interface BadgeOptions {
  /** The stream of the D^2 draws. */
  rng: Rng;
  /** Mask of length N (non-zero = excluded): never picked. @default null */
  exclude?: Uint8Array | null;
  /** Rows per chunk of the norm pass. @default all N when N x D fits in 2^22 numbers, else 2^22 / D */
  chunkSize?: number;
}

/**
 * BADGE selection: the row with the largest gradient embedding norm first (as the authors'
 * code does), then k - 1 D^2 draws (k-means++ seeding) on squared gradient-embedding distances
 * from `rng`. Gradient embeddings closer than a 1e-5 relative squared distance count as
 * duplicates (weight 0); when every remaining row duplicates a pick, the rest are uniform
 * draws. Returns min(k, open rows) rows in pick order.
 *
 * @param probs [N, C] softmax probabilities
 * @param embeddings [N, D] penultimate activations h
 * @example
 *   const picks = await badgeSelect(probs, embeddings, 10, { rng: new Rng(1) });
 */
export async function badgeSelect(probs: tf.Tensor2D, embeddings: tf.Tensor2D, k: number, options: BadgeOptions): Promise<Int32Array> {
  checkMatrix(probs, 'badge: probs');
  checkMatrix(embeddings, 'badge: embeddings', probs.shape[0]);
  if (!Number.isInteger(k) || k <= 0) throw new SelectionError(`badge: k must be a positive integer, got ${k}`);
  const n = probs.shape[0];
  const c = probs.shape[1];
  const excluded = options.exclude ?? null;
  if (excluded !== null && excluded.length !== n) throw new SelectionError(`badge: exclude mask has length ${excluded.length}, expected ${n}`);
  const want = Math.min(k, openRows(n, excluded).length);
  const picks = new Int32Array(want);
  if (want === 0) return picks;

  const hNorms = sqNorms(embeddings, options.chunkSize); // [N] ||h||^2
  const q = tf.tidy(() => tf.sub(probs, tf.oneHot(tf.argMax(probs, 1), c, 1, 0, 'float32'))) as tf.Tensor2D; // [N, C] p - e_ŷ
  const gNorms = tf.tidy(() => tf.mul(tf.sum(tf.square(q), 1), hNorms)) as tf.Tensor1D; // [N] ||g||^2
  const iota = tf.range(0, n, 1, 'int32') as tf.Tensor1D;
  const taken = new Uint8Array(n);
  const isOpen = (r: number) => taken[r] === 0 && (excluded === null || excluded[r] === 0);
  const st: { avail: tf.Tensor1D; minD: tf.Tensor1D | null } = { avail: eligibleMask(n, excluded), minD: null };
  try {
    const first = tf.tidy(() => tf.where(tf.greater(st.avail, 0), gNorms, tf.fill([n], -1)) as tf.Tensor1D);
    picks[0] = await argMaxIndex(first).finally(() => first.dispose());
    taken[picks[0]!] = 1;
    for (let j = 1; j < want; j++) {
      const last = picks[j - 1]!;
      const { avail, minD } = st;
      const [a, d, weights] = tf.tidy(() => {
        const qc = rows(q, last, 1); // [1, C]
        const hc = rows(embeddings, last, 1); // [1, D]
        const gc = tf.mul(tf.sum(tf.square(qc)), tf.sum(tf.square(hc))); // scalar ||g_c||^2
        // [N, C] x [C, 1] and [N, D] x [D, 1] (reshaped columns, not transpose flags: faster on wasm)
        const dot = tf.mul(tf.reshape(tf.matMul(q, tf.reshape(qc, [-1, 1])), [-1]), tf.reshape(tf.matMul(embeddings, tf.reshape(hc, [-1, 1])), [-1])); // [N] <g_i, g_c>
        const sumSq = tf.add(gNorms, gc);
        let dist = tf.relu(tf.sub(sumSq, tf.mul(dot, 2))); // [N] ||g_i - g_c||^2
        dist = tf.where(tf.less(dist, tf.mul(sumSq, DUPLICATE_REL_TOL)), tf.zerosLike(dist), dist);
        const nextMin = minD === null ? dist : tf.minimum(minD, dist);
        const nextAvail = tf.where(tf.equal(iota, last), tf.zerosLike(avail), avail);
        return [nextAvail, nextMin, tf.mul(nextMin, nextAvail)] as [tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
      });
      avail.dispose();
      minD?.dispose();
      st.avail = a;
      st.minD = d;
      const i = await pickD2(weights, options.rng, isOpen).finally(() => weights.dispose());
      picks[j] = i;
      taken[i] = 1;
    }
    return picks;
  } finally {
    tf.dispose([hNorms, q, gNorms, iota, st.avail]);
    st.minD?.dispose();
  }
}

export interface BadgeStrategyOptions {
  /** Rows per chunk of the norm pass. @default all N when N x D fits in 2^22 numbers, else 2^22 / D */
  chunkSize?: number;
}

/** BADGE as a set strategy: needs the candidates' probabilities and embeddings. */
export function badgeStrategy(options: BadgeStrategyOptions = {}): SetStrategy {
  const { name } = STRATEGY_CATALOG.badge;
  return {
    ...STRATEGY_CATALOG.badge,
    async select(inputs: AcquisitionInputs, k: number, sel: SelectOptions): Promise<Int32Array> {
      const probs = needRows(inputs, 'probs', name);
      const h = needRows(inputs, 'embeddings', name);
      const excluded = exclusionMask(sel.exclude, inputs.n);
      return badgeSelect(probs, h, k, { rng: inputs.rng, exclude: excluded, ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}) });
    },
  };
}
