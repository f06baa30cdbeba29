/**
 * k-means on the backend (seeded k-means++ and Lloyd iterations) and the diversity sampling
 * strategy of seed 004: cluster the candidates into C groups (C = number of classes), then
 * pick round-robin across the clusters, each cluster's rows nearest its centroid first.
 *
 * Memory: besides the caller's [N, D] input, [N]-vectors (norms, min distances, assignments),
 * [K, D] centroids, and per pass an N x K block, or row chunks of it when N x K exceeds 2^22
 * numbers (see `passRows`): never N x N, never a copy of x. Readback per Lloyd
 * iteration: one scalar (the total centroid shift); per k-means++ draw: one scalar. At the
 * end the strategy reads the N assignments and N distances once (2N numbers).
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng.ts';
import { STRATEGY_CATALOG } from '../catalog.ts';
import { SelectionError } from '../errors.ts';
import { exclusionMask, type SelectOptions } from '../select.ts';
import type { AcquisitionInputs, SetStrategy } from '../types.ts';
import { clusterCount, eligibleMask, needRows, openRows } from './common.ts';
import {
  assignNearest, checkMatrix, passRows, pickD2, readScalar, rows, sqDistToRow, sqNorms,
} from './distance.ts';

export interface KMeansPlusPlusOptions {
  /** The seeded stream every draw comes from. */
  rng: Rng;
  /** Mask of length N (non-zero = excluded): excluded rows are never seeds. @default null */
  exclude?: Uint8Array | null;
  /**
   * Rows per chunk of the passes over x. @default all N rows when an N x K block fits in 2^22
   * numbers, else 2^22 / max(D, K)
   */
  chunkSize?: number;
}

export interface KMeansOptions extends KMeansPlusPlusOptions {
  /**
   * Cap on Lloyd iterations. @default 100
   */
  maxIter?: number;
  /**
   * Convergence, as scikit-learn's KMeans: stop when the total squared centroid shift of an
   * iteration, sum_k ||c_k' - c_k||^2, is at most `tol` times the mean per-feature variance of
   * the (non-excluded) rows (sklearn's `_kmeans_single_lloyd`: `center_shift_tot =
   * (center_shift**2).sum()` against `tol * mean(var(X, axis=0))`). An unchanged assignment
   * moves nothing, so a fixed point always stops (sklearn's strict convergence). @default 1e-4
   */
  tol?: number;
}

export interface KMeansResult {
  /** [K, D] final centroids. */
  centroids: tf.Tensor2D;
  /** int32 [N]: each row's nearest final centroid (excluded rows included), ties to the lower centroid. */
  assignments: tf.Tensor1D;
  /** [N]: squared distance of each row to its centroid. */
  distances: tf.Tensor1D;
  /** The K rows k-means++ chose as initial centroids, in draw order. */
  seeds: Int32Array;
  /** Lloyd iterations run. */
  iterations: number;
  /** Whether the centroids settled before `maxIter`. */
  converged: boolean;
  /** Disposes the three tensors. */
  dispose(): void;
}

function checkCount(k: number, what: string): void {
  if (!Number.isInteger(k) || k <= 0) throw new SelectionError(`${what}: k must be a positive integer, got ${k}`);
}

/**
 * k-means++ seeding (Arthur & Vassilvitskii 2007): the first seed uniform among the
 * non-excluded rows, each next one drawn with probability proportional to its squared
 * distance to the nearest seed so far (D^2 sampling), all from `rng`. Keeps one [N] vector of
 * min distances on the backend and reads back one number per draw.
 *
 * Returns min(k, number of non-excluded rows) distinct row indices, in draw order. Rows that
 * coincide with a seed have weight 0; if every remaining row does, the next seed is a uniform
 * draw among the open rows (so k above the number of distinct rows still gives distinct rows).
 * @example
 *   const seeds = await kmeansPlusPlus(x, 3, { rng: new Rng(1) });  // Int32Array(3)
 */
export async function kmeansPlusPlus(x: tf.Tensor2D, k: number, options: KMeansPlusPlusOptions): Promise<Int32Array> {
  checkMatrix(x, 'kmeansPlusPlus: x');
  checkCount(k, 'kmeansPlusPlus');
  const xNorms = sqNorms(x, options.chunkSize);
  try {
    return await seedPlusPlus(x, xNorms, k, options);
  } finally {
    xNorms.dispose();
  }
}

/** k-means++ with the squared row norms given ([N], the caller's). */
async function seedPlusPlus(x: tf.Tensor2D, xNorms: tf.Tensor1D, k: number, options: KMeansPlusPlusOptions): Promise<Int32Array> {
  const n = x.shape[0];
  const excluded = options.exclude ?? null;
  const candidates = openRows(n, excluded);
  const want = Math.min(k, candidates.length);
  if (want === 0) return new Int32Array(0);
  const w = eligibleMask(n, excluded);
  const taken = new Uint8Array(n);
  const seeds = new Int32Array(want);
  let minD: tf.Tensor1D | null = null;
  try {
    seeds[0] = candidates[options.rng.int(candidates.length)]!;
    taken[seeds[0]!] = 1;
    for (let j = 1; j < want; j++) {
      const last = seeds[j - 1]!;
      const next: tf.Tensor1D = tf.tidy(() => {
        const d = sqDistToRow(x, xNorms, rows(x, last, 1), true);
        return minD === null ? d : tf.minimum(minD, d);
      });
      minD?.dispose();
      minD = next;
      const weights = tf.mul(next, w) as tf.Tensor1D;
      const i = await pickD2(weights, options.rng, (r) => taken[r] === 0 && (excluded === null || excluded[r] === 0)).finally(() => weights.dispose());
      seeds[j] = i;
      taken[i] = 1;
    }
  } finally {
    minD?.dispose();
    w.dispose();
  }
  return seeds;
}

/**
 * k-means (Lloyd's algorithm) on the backend, seeded with `kmeansPlusPlus`.
 *
 * Each iteration assigns every row to its nearest centroid (distances by one matrix product
 * per chunk of rows: ||x||^2 - 2 x c^T + ||c||^2) and moves each centroid to the mean of its
 * rows (a one-hot^T x product per chunk). Excluded rows take part in neither seeding nor the
 * means, but still get an assignment. A cluster that loses all its rows keeps its centroid.
 * Reads back one scalar per iteration (the total squared centroid shift), never N x D.
 *
 * `k` is capped at the number of non-excluded rows. The caller owns the result (`dispose()`).
 * @example
 *   const r = await kmeans(tf.tensor2d([[0, 0], [0, 1], [9, 9], [9, 8]]), 2, { rng: new Rng(1) });
 *   await r.assignments.data();  // e.g. [0, 0, 1, 1] (cluster numbers depend on the seeds)
 *   r.dispose();
 */
export async function kmeans(x: tf.Tensor2D, k: number, options: KMeansOptions): Promise<KMeansResult> {
  checkMatrix(x, 'kmeans: x');
  checkCount(k, 'kmeans');
  const maxIter = options.maxIter ?? 100;
  const tol = options.tol ?? 1e-4;
  if (!Number.isInteger(maxIter) || maxIter < 0) throw new SelectionError(`kmeans: maxIter must be a non-negative integer, got ${maxIter}`);
  if (!(tol >= 0)) throw new SelectionError(`kmeans: tol must be >= 0, got ${tol}`);
  const n = x.shape[0];
  const excluded = options.exclude ?? null;
  if (excluded !== null && excluded.length !== n) {
    throw new SelectionError(`kmeans: exclude mask has length ${excluded.length}, expected ${n}`);
  }
  const xNorms = sqNorms(x, options.chunkSize);
  let seeds: Int32Array;
  try {
    seeds = await seedPlusPlus(x, xNorms, k, { ...options, exclude: excluded });
    if (seeds.length === 0) throw new SelectionError('kmeans: every row is excluded; nothing to cluster');
  } catch (err) {
    xNorms.dispose();
    throw err;
  }
  const kk = seeds.length;
  const chunk = passRows(n, x.shape[1], kk, options.chunkSize);

  const w = excluded === null ? null : eligibleMask(n, excluded);
  let centroids = tf.tidy(() => tf.gather(x, tf.tensor1d(seeds, 'int32'))) as tf.Tensor2D;
  let iterations = 0;
  let converged = false;
  try {
    // Threshold: tol x mean per-feature variance of the eligible rows, from [N] and [D] sums
    // only: (sum_i w_i ||x_i||^2) / W - ||mean||^2, over D.
    const threshold = tol * (await readScalar(tf.tidy(() => {
      const d = x.shape[1];
      const wRow = w === null ? tf.ones([1, n]) : tf.reshape(w, [1, n]);
      const total = tf.sum(wRow);
      const mean = tf.div(tf.matMul(wRow, x), total); // [1, N] x [N, D] -> [1, D]
      const meanSq = tf.div(tf.sum(tf.mul(tf.reshape(wRow, [n]), xNorms)), total);
      return tf.div(tf.relu(tf.sub(meanSq, tf.sum(tf.square(mean)))), d);
    })));

    while (iterations < maxIter) {
      iterations++;
      let sums: tf.Tensor2D | null = null; // [K, D]
      let counts: tf.Tensor1D | null = null; // [K]
      const c = centroids;
      const cNorms = tf.tidy(() => tf.expandDims(tf.sum(tf.square(c), 1), 0)) as tf.Tensor2D; // [1, K] ||c||^2
      for (let s = 0; s < n; s += chunk) {
        const size = Math.min(chunk, n - s);
        const [ps, pc] = tf.tidy(() => {
          const xc = rows(x, s, size);
          const ab = tf.matMul(xc, c, false, true); // [size, D] x [K, D]^T -> [size, K]
          // ||x||^2 is the same for every centroid: the argmin needs only ||c||^2 - 2 x c^T.
          const score = tf.sub(cNorms, tf.mul(ab, 2));
          let oh = tf.oneHot(tf.argMin(score, 1), kk, 1, 0, 'float32'); // [size, K]
          if (w !== null) oh = tf.mul(oh, tf.expandDims(rows(w, s, size), 1));
          return [tf.matMul(oh, xc, true, false), tf.sum(oh, 0)] as [tf.Tensor2D, tf.Tensor1D]; // [K, size] x [size, D] -> [K, D], [K]
        });
        if (sums === null || counts === null) {
          sums = ps;
          counts = pc;
        } else {
          const ns: tf.Tensor2D = tf.add(sums, ps);
          const nc: tf.Tensor1D = tf.add(counts, pc);
          tf.dispose([sums, counts, ps, pc]);
          sums = ns;
          counts = nc;
        }
      }
      cNorms.dispose();
      const s2 = sums!, c2 = counts!, old = centroids;
      const [next, shift] = tf.tidy(() => {
        const has = tf.expandDims(tf.greater(c2, 0), 1); // [K, 1]
        const mean = tf.div(s2, tf.expandDims(tf.maximum(c2, 1), 1));
        const nc = tf.where(tf.broadcastTo(has, old.shape), mean, old) as tf.Tensor2D;
        return [nc, tf.sum(tf.square(tf.sub(nc, old)))] as [tf.Tensor2D, tf.Scalar]; // sum_k ||c_k' - c_k||^2
      });
      tf.dispose([s2, c2, old]);
      centroids = next;
      if ((await readScalar(shift)) <= threshold) {
        converged = true;
        break;
      }
    }
    const { assign, dist } = assignNearest(x, xNorms, centroids, chunk);
    const c = centroids;
    return {
      centroids: c, assignments: assign, distances: dist, seeds, iterations, converged,
      dispose: () => tf.dispose([c, assign, dist]),
    };
  } catch (err) {
    centroids.dispose();
    throw err;
  } finally {
    xNorms.dispose();
    w?.dispose();
  }
}

/**
 * Round-robin over clusters (seed 004): each cluster's rows sorted nearest-to-centroid first
 * (ties: lower row index); then round r takes the r-th row of every cluster that still has one.
 * Clusters are visited largest first (counting only non-excluded rows; ties: lower cluster
 * number), so the order does not depend on how the seeds happened to number the clusters.
 * Excluded rows are never returned. Returns up to k rows.
 * @example
 *   roundRobinByCluster([0, 1, 0, 1, 1], [0.5, 0.1, 0.2, 0.3, 0.9], 2, 3)  // [1, 2, 3]
 */
export function roundRobinByCluster(
  assignments: ArrayLike<number>,
  distances: ArrayLike<number>,
  clusters: number,
  k: number,
  excluded: Uint8Array | null = null,
): Int32Array {
  const members: number[][] = Array.from({ length: clusters }, () => []);
  for (let i = 0; i < assignments.length; i++) {
    if (excluded !== null && excluded[i] !== 0) continue;
    const a = assignments[i]!;
    if (!(a >= 0 && a < clusters)) throw new SelectionError(`roundRobinByCluster: row ${i} has cluster ${a}, expected [0, ${clusters})`);
    members[a]!.push(i);
  }
  for (const m of members) m.sort((i, j) => distances[i]! - distances[j]! || i - j);
  const order = members.map((m, c) => [m.length, c] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, c]) => members[c]!);
  const total = order.reduce((a, m) => a + m.length, 0);
  const out = new Int32Array(Math.min(k, total));
  let j = 0;
  for (let r = 0; j < out.length; r++) {
    for (const m of order) {
      if (r < m.length && j < out.length) out[j++] = m[r]!;
    }
  }
  return out;
}

export interface KMeansDiversityOptions {
  /** Registry name and the feature space: model embeddings, or raw inputs (model-free). */
  source: 'embeddings' | 'inputs';
  /**
   * Number of clusters. @default the width C of `inputs.probs` when given, else
   * `inputs.numClasses`, else 10
   */
  clusters?: number;
  /** Lloyd iteration cap. @default 100 */
  maxIter?: number;
  /** Relative convergence tolerance (see `KMeansOptions.tol`). @default 1e-4 */
  tol?: number;
  /** Rows per chunk of the passes over x. @default see `KMeansPlusPlusOptions.chunkSize` */
  chunkSize?: number;
}

/**
 * The diversity sampling strategy of seed 004 as a set strategy: k-means with one cluster per
 * class over the candidates' embeddings (or raw inputs), then `roundRobinByCluster`.
 * With k equal to the number of clusters it asks exactly one row per cluster, the one nearest
 * its centroid, largest cluster first.
 */
export function kmeansDiversityStrategy(options: KMeansDiversityOptions): SetStrategy {
  const entry = options.source === 'embeddings' ? STRATEGY_CATALOG.kmeansDiversity : STRATEGY_CATALOG.kmeansDiversityRaw;
  const { name } = entry;
  return {
    ...entry,
    async select(inputs: AcquisitionInputs, k: number, sel: SelectOptions): Promise<Int32Array> {
      const x = needRows(inputs, options.source, name);
      const excluded = exclusionMask(sel.exclude, inputs.n);
      const open = openRows(inputs.n, excluded).length;
      if (open === 0) return new Int32Array(0);
      const clusters = Math.min(clusterCount(inputs, options.clusters, name), open);
      const r = await kmeans(x, clusters, {
        rng: inputs.rng,
        exclude: excluded,
        ...(options.maxIter !== undefined ? { maxIter: options.maxIter } : {}),
        ...(options.tol !== undefined ? { tol: options.tol } : {}),
        ...(options.chunkSize !== undefined ? { chunkSize: options.chunkSize } : {}),
      });
      let assign: Int32Array, dist: Float32Array;
      try {
        [assign, dist] = (await Promise.all([r.assignments.data(), r.distances.data()])) as [Int32Array, Float32Array];
      } finally {
        r.dispose();
      }
      return roundRobinByCluster(assign, dist, r.seeds.length, k, excluded);
    },
  };
}
