/**
 * Core-set selection (Sener & Savarese 2018): greedy k-center in embedding space. Each pick is
 * the candidate farthest from everything labeled or already picked, which greedily minimises
 * the largest distance from any candidate to its nearest labeled point (a 2-approximation).
 *
 * Memory: one [N] vector of min squared distances, updated per pick with one N x 1 distance
 * pass (x c^T); the initial distances to the L labeled rows are blocked as [rows, 1024] tiles
 * within the 2^22-number budget (4096 x 1024 for D <= 1024 once N x 1024 exceeds it).
 * Work O(N L D + N k D). Readback: one index per pick, one scalar at the end.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng.ts';
import { STRATEGY_CATALOG } from '../catalog.ts';
import { SelectionError } from '../errors.ts';
import { exclusionMask, type SelectOptions } from '../select.ts';
import type { AcquisitionInputs, SetStrategy } from '../types.ts';
import { eligibleMask, needRows, openRows } from './common.ts';
import {
  argMaxIndex, checkMatrix, DEFAULT_COL_CHUNK, minSqDistances, readScalar, rows, sqDistToRow, sqNorms,
} from './distance.ts';

export interface KCenterOptions {
  /** Draws the first centre when nothing is labeled (uniform among the open rows). */
  rng: Rng;
  /** Mask of length N (non-zero = excluded): never picked, and not counted in the radius. @default null */
  exclude?: Uint8Array | null;
  /** Candidate rows per distance chunk. @default all N when N x min(L, 1024) fits in 2^22 numbers, else 2^22 / max(D, 1024) */
  chunkSize?: number;
  /** Labeled rows per distance block. @default 1024 */
  colChunk?: number;
}

export interface KCenterResult {
  /** Picked rows, in pick order (farthest first). */
  indices: Int32Array;
  /**
   * The k-center objective after the picks: the largest Euclidean distance from an open
   * (non-excluded) candidate to its nearest labeled or picked row. Infinity if nothing is
   * labeled and nothing was picked.
   */
  radius: number;
}

/**
 * Greedy k-center over the rows of `x` [N, D], starting from the `labeled` rows [L, D] (null
 * or L = 0: the first centre is a uniform draw from `rng` among the open rows). Ties in the
 * farthest distance go to the lower row index on cpu and wasm.
 *
 * `k` is capped at the number of open rows.
 * @example
 *   const { indices, radius } = await greedyKCenter(x, labeledX, 10, { rng: new Rng(1) });
 */
export async function greedyKCenter(x: tf.Tensor2D, labeled: tf.Tensor2D | null, k: number, options: KCenterOptions): Promise<KCenterResult> {
  checkMatrix(x, 'greedyKCenter: x');
  if (labeled !== null) {
    checkMatrix(labeled, 'greedyKCenter: labeled');
    if (labeled.shape[1] !== x.shape[1]) {
      throw new SelectionError(`greedyKCenter: labeled rows have ${labeled.shape[1]} features, candidates ${x.shape[1]}: they must come from the same embedding`);
    }
  }
  if (!Number.isInteger(k) || k <= 0) throw new SelectionError(`greedyKCenter: k must be a positive integer, got ${k}`);
  const n = x.shape[0];
  const excluded = options.exclude ?? null;
  if (excluded !== null && excluded.length !== n) throw new SelectionError(`greedyKCenter: exclude mask has length ${excluded.length}, expected ${n}`);
  const open = openRows(n, excluded);
  const want = Math.min(k, open.length);
  const picks = new Int32Array(want);
  if (want === 0) return { indices: picks, radius: open.length === 0 ? 0 : Infinity };

  const chunk = options.chunkSize;
  const xNorms = sqNorms(x, chunk);
  const iota = tf.range(0, n, 1, 'int32') as tf.Tensor1D;
  // avail: 1 = may still be picked; minD: squared distance to the nearest labeled or picked row.
  const st: { avail: tf.Tensor1D; minD: tf.Tensor1D | null } = { avail: eligibleMask(n, excluded), minD: null };
  const pick = (i: number) => {
    const { avail, minD } = st;
    const [a, d] = tf.tidy(() => {
      const d = sqDistToRow(x, xNorms, rows(x, i, 1), false); // [N, D] x [D, 1] -> [N]
      return [tf.where(tf.equal(iota, i), tf.zerosLike(avail), avail), minD === null ? d : tf.minimum(minD, d)] as [tf.Tensor1D, tf.Tensor1D];
    });
    avail.dispose();
    minD?.dispose();
    st.avail = a;
    st.minD = d;
  };
  try {
    let j = 0;
    if (labeled === null || labeled.shape[0] === 0) {
      picks[j++] = open[options.rng.int(open.length)]!;
      pick(picks[0]!);
    } else {
      st.minD = minSqDistances(x, xNorms, labeled, chunk, options.colChunk ?? DEFAULT_COL_CHUNK);
    }
    for (; j < want; j++) {
      const { avail, minD } = st;
      const score = tf.tidy(() => tf.where(tf.greater(avail, 0), minD!, tf.fill([n], -1)) as tf.Tensor1D);
      const i = await argMaxIndex(score).finally(() => score.dispose());
      picks[j] = i;
      pick(i);
    }
    const minD = st.minD!;
    const radius = await readScalar(tf.tidy(() => {
      const ok = eligibleMask(n, excluded);
      return tf.sqrt(tf.max(tf.where(tf.greater(ok, 0), minD, tf.fill([n], -Infinity))));
    }));
    return { indices: picks, radius };
  } finally {
    xNorms.dispose();
    iota.dispose();
    st.avail.dispose();
    st.minD?.dispose();
  }
}

export interface CoresetOptions {
  /** Candidate rows per distance chunk. @default all N when N x min(L, 1024) fits in 2^22 numbers, else 2^22 / max(D, 1024) */
  chunkSize?: number;
}

/**
 * The core-set strategy: greedy k-center on the candidates' embeddings against the labeled
 * set's embeddings. Needs `embeddings` and `labeledEmbeddings` ([0, D] before anything is
 * labeled: then the first pick is a seeded uniform draw).
 */
export function coresetStrategy(options: CoresetOptions = {}): SetStrategy {
  const { name } = STRATEGY_CATALOG.coreset;
  return {
    ...STRATEGY_CATALOG.coreset,
    async select(inputs: AcquisitionInputs, k: number, sel: SelectOptions): Promise<Int32Array> {
      const x = needRows(inputs, 'embeddings', name);
      const labeled = inputs.labeledEmbeddings;
      if (labeled === undefined || labeled === null) {
        throw new SelectionError(`strategy '${name}' needs 'labeledEmbeddings' but the loop did not provide it`);
      }
      checkMatrix(labeled, `strategy '${name}': labeledEmbeddings`);
      const excluded = exclusionMask(sel.exclude, inputs.n);
      const r = await greedyKCenter(x, labeled, k, { rng: inputs.rng, exclude: excluded, ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}) });
      return r.indices;
    },
  };
}
