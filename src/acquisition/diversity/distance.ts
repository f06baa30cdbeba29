/**
 * Squared Euclidean distances on the backend, in bounded memory, and D^2 sampling.
 *
 * Every distance is ||a||^2 - 2 a.b + ||b||^2 from one matrix product, clamped at 0. A pass over
 * the N rows runs in row chunks, each in its own `tf.tidy`, sized so that no intermediate holds
 * more than CHUNK_ELEMENTS (2^22) numbers: when all N rows fit (N x K <= 2^22 for an N x K
 * distance block), one pass with no slicing; otherwise 2^22 / max(D, K) rows at a time. Nothing
 * N x N and no extra N x D copy is ever made; what grows with N is [N]-vectors and, within the
 * budget, N x K blocks.
 *
 * (Why not a fixed 4096 rows: fewer, larger ops were faster on every backend measured.)
 *
 * Shared by k-means, coreset, BADGE and marginDiverse.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng.ts';
import { SelectionError } from '../errors.ts';

/** Most numbers any chunked intermediate may hold: 2^22 (16 MB of float32). */
export const CHUNK_ELEMENTS = 1 << 22;
/** Labeled rows per block of the candidate x labeled distances (coreset). @default 1024 */
export const DEFAULT_COL_CHUNK = 1024;

/**
 * Rows per chunk of a pass over n rows of width d that makes an [rows, k] block: all n rows
 * when n x k fits the budget (no slicing), else budget / max(d, k) rows (a slice is [rows, d]).
 * An explicit `chunk` wins.
 */
export function passRows(n: number, d: number, k: number, chunk?: number): number {
  if (chunk !== undefined) {
    if (!Number.isInteger(chunk) || chunk <= 0) throw new SelectionError(`chunkSize must be a positive integer, got ${chunk}`);
    return chunk;
  }
  if (n * k <= CHUNK_ELEMENTS) return Math.max(1, n);
  return Math.max(1, Math.floor(CHUNK_ELEMENTS / Math.max(d, k)));
}

/**
 * Squared distances below `DUPLICATE_REL_TOL * (||a||^2 + ||b||^2)` are taken as 0 where a
 * distance is used as a sampling weight: the matrix-product identity leaves float32 rounding of
 * that relative size (about sqrt(D) * 6e-8) between a row and its own copy, and a duplicate of
 * a centre must have weight exactly 0.
 */
export const DUPLICATE_REL_TOL = 1e-5;

/** Throws `SelectionError` unless `t` is a float32 [n, D] tensor (n checked when given). */
export function checkMatrix(t: unknown, what: string, n?: number): asserts t is tf.Tensor2D {
  if (!(t instanceof tf.Tensor)) {
    throw new SelectionError(`${what}: expected a tf.Tensor [N, D], got ${t === null ? 'null' : typeof t}`);
  }
  if (t.rank !== 2) throw new SelectionError(`${what}: expected a rank-2 tensor [N, D], got shape [${t.shape.join(', ')}]`);
  if (t.dtype !== 'float32') throw new SelectionError(`${what}: expected dtype float32, got ${t.dtype}`);
  if (n !== undefined && t.shape[0] !== n) {
    throw new SelectionError(`${what}: has ${t.shape[0]} rows, expected ${n} (one per candidate)`);
  }
}

/**
 * Runs `f` on row chunks `[start, start + size)` of an N-row problem, each in its own tidy, and
 * concatenates the results along axis 0. The caller owns the result.
 */
export function mapRowChunks(n: number, chunk: number, f: (start: number, size: number) => tf.Tensor): tf.Tensor {
  if (n <= chunk) return tf.tidy(() => f(0, n));
  const parts: tf.Tensor[] = [];
  try {
    for (let s = 0; s < n; s += chunk) {
      const size = Math.min(chunk, n - s);
      parts.push(tf.tidy(() => f(s, size)));
    }
    return tf.concat(parts, 0);
  } finally {
    for (const p of parts) p.dispose();
  }
}

/** Rows `[start, start + size)` of a rank-1 or rank-2 tensor (x itself for all rows). */
export function rows<T extends tf.Tensor>(x: T, start: number, size: number): T {
  if (start === 0 && size === x.shape[0]) return x;
  return (x.rank === 1 ? tf.slice(x, [start], [size]) : tf.slice(x, [start, 0], [size, -1])) as T;
}

/**
 * Squared row norms, chunked (the square is an [rows, D] intermediate): [N, D] -> [N].
 * The caller owns the result.
 * @example sqNorms(tf.tensor2d([[3, 4]]))  // [25]
 */
export function sqNorms(x: tf.Tensor2D, chunk?: number): tf.Tensor1D {
  const [n, d] = x.shape;
  return mapRowChunks(n, passRows(n, d, d, chunk), (s, m) => tf.sum(tf.square(rows(x, s, m)), 1)) as tf.Tensor1D;
}

/**
 * Squared distances between the rows of `a` [M, D] and `b` [K, D]: [M, K], from
 * ||a||^2 - 2 a b^T + ||b||^2 with the norms given, clamped at 0. Call inside a tidy.
 */
export function pairwiseSq(a: tf.Tensor2D, b: tf.Tensor2D, aNorms: tf.Tensor1D, bNorms: tf.Tensor1D): tf.Tensor2D {
  // [M, 1] - 2 [M, K] + [1, K] -> [M, K]
  const ab = tf.matMul(a, b, false, true);
  return tf.relu(tf.add(tf.sub(tf.expandDims(aNorms, 1), tf.mul(ab, 2)), tf.expandDims(bNorms, 0))) as tf.Tensor2D;
}

/**
 * Squared distance of every row of `x` to the single row `c` ([1, D]): [N]. N x 1 work, no
 * chunking needed. With `dedupe`, distances below DUPLICATE_REL_TOL relative are set to 0.
 * Call inside a tidy.
 */
export function sqDistToRow(x: tf.Tensor2D, xNorms: tf.Tensor1D, c: tf.Tensor2D, dedupe: boolean): tf.Tensor1D {
  const cn = tf.sum(tf.square(c)); // scalar
  const dot = tf.reshape(tf.matMul(x, tf.reshape(c, [-1, 1])), [-1]); // [N, D] x [D, 1] -> [N]
  const d = tf.relu(tf.add(tf.sub(xNorms, tf.mul(dot, 2)), cn));
  if (!dedupe) return d as tf.Tensor1D;
  return tf.where(tf.less(d, tf.mul(tf.add(xNorms, cn), DUPLICATE_REL_TOL)), tf.zerosLike(d), d) as tf.Tensor1D;
}

/**
 * For each row of `x` [N, D], the squared distance to the nearest row of `y` [M, D]: [N],
 * blocked as row chunks x column chunks so at most `rowChunk * colChunk` distances exist at
 * once. An empty `y` gives +Infinity everywhere. The caller owns the result.
 */
export function minSqDistances(
  x: tf.Tensor2D,
  xNorms: tf.Tensor1D,
  y: tf.Tensor2D,
  rowChunk?: number,
  colChunk = DEFAULT_COL_CHUNK,
): tf.Tensor1D {
  const [n, d] = x.shape;
  const m = y.shape[0];
  if (m === 0) return tf.fill([n], Infinity) as tf.Tensor1D;
  const yNorms = sqNorms(y);
  try {
    return mapRowChunks(n, passRows(n, d, Math.min(m, colChunk), rowChunk), (s, size) => {
      const xc = rows(x, s, size);
      const xn = rows(xNorms, s, size);
      let best: tf.Tensor | null = null;
      for (let j = 0; j < m; j += colChunk) {
        const cols = Math.min(colChunk, m - j);
        const blockMin = tf.tidy(() => tf.min(pairwiseSq(xc, rows(y, j, cols), xn, rows(yNorms, j, cols)), 1));
        if (best === null) best = blockMin;
        else {
          const next: tf.Tensor = tf.minimum(best, blockMin);
          best.dispose();
          blockMin.dispose();
          best = next;
        }
      }
      return best!;
    }) as tf.Tensor1D;
  } finally {
    yNorms.dispose();
  }
}

/**
 * Nearest centroid of each row and the squared distance to it, chunked: x [N, D] and
 * centroids [K, D] -> { assign: int32 [N], dist: [N] }. Ties go to the lower centroid.
 * The caller owns both tensors.
 */
export function assignNearest(
  x: tf.Tensor2D,
  xNorms: tf.Tensor1D,
  centroids: tf.Tensor2D,
  chunk?: number,
): { assign: tf.Tensor1D; dist: tf.Tensor1D } {
  const cNorms = tf.tidy(() => tf.sum(tf.square(centroids), 1)) as tf.Tensor1D;
  try {
    // Both results of a chunk come out of one distance matrix: stacked as [size, 2] floats
    // (an index < 2^24 is exact in float32), split after the concat.
    const both = mapRowChunks(x.shape[0], passRows(x.shape[0], x.shape[1], centroids.shape[0], chunk), (s, m) => {
      const d = pairwiseSq(rows(x, s, m), centroids, rows(xNorms, s, m), cNorms); // [m, K]
      return tf.stack([tf.cast(tf.argMin(d, 1), 'float32'), tf.min(d, 1)], 1);
    });
    const out = tf.tidy(() => {
      const [a, dd] = tf.unstack(both, 1) as [tf.Tensor1D, tf.Tensor1D];
      return { assign: tf.cast(a, 'int32') as tf.Tensor1D, dist: dd };
    });
    both.dispose();
    return out;
  } finally {
    cNorms.dispose();
  }
}

/** Largest float32 below 1: a uniform draw is clamped to it so u * total < total. */
const U_MAX = 1 - 2 ** -24;

/**
 * Draws one index with probability proportional to `weights` [N] (non-negative; 0 = never),
 * on the backend: a cumulative sum, then the count of prefix sums <= u * total, read back as
 * one number. Returns -1 when every weight is 0. `u` comes from `rng.next()`.
 */
export async function sampleProportional(weights: tf.Tensor1D, rng: Rng): Promise<number> {
  const n = weights.shape[0];
  if (n === 0) return -1;
  const u = Math.min(rng.next(), U_MAX);
  const res = tf.tidy(() => {
    const cum = tf.cumsum(weights); // [N], non-decreasing
    const total = rows(cum, n - 1, 1); // [1]
    const idx = tf.sum(tf.cast(tf.lessEqual(cum, tf.mul(total, u)), 'int32')); // first row whose prefix passes u * total
    // total > 0 ? idx : -1
    return tf.where(tf.greater(total, 0), tf.reshape(idx, [1]), tf.tensor1d([-1], 'int32'));
  });
  const v = (await res.data())[0]!;
  res.dispose();
  return v >= n ? n - 1 : v;
}

/**
 * One D^2-sampling draw (k-means++ seeding, BADGE): an index drawn in proportion to `weights`
 * (0 for excluded and already chosen rows). `open(i)` says whether row i may still be chosen.
 * If rounding lets the draw land on a closed row, it takes the heaviest row instead; if every
 * weight is 0 (all remaining rows coincide with chosen ones), a uniform draw among the open
 * rows. Returns -1 only when no row is open.
 */
export async function pickD2(weights: tf.Tensor1D, rng: Rng, open: (i: number) => boolean): Promise<number> {
  const n = weights.shape[0];
  const i = await sampleProportional(weights, rng);
  if (i >= 0 && open(i)) return i;
  if (i >= 0) {
    const j = await argMaxIndex(weights);
    if (open(j)) return j;
  }
  const rest: number[] = [];
  for (let r = 0; r < n; r++) if (open(r)) rest.push(r);
  return rest.length === 0 ? -1 : rest[rng.int(rest.length)]!;
}

/** Index of the largest entry of `v` [N] (ties: the lower index on cpu/wasm), read back as one number. */
export async function argMaxIndex(v: tf.Tensor1D): Promise<number> {
  const t = tf.argMax(v);
  const i = (await t.data())[0]!;
  t.dispose();
  return i;
}

/** Reads back a scalar (or the first entry of a tensor) and disposes it. */
export async function readScalar(t: tf.Tensor): Promise<number> {
  try {
    return (await t.data())[0]!;
  } finally {
    t.dispose();
  }
}
