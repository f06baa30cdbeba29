/**
 * Margin + diversity, two stages: keep the beta * k rows with the smallest margin
 * p(1) - p(2) (most uncertain), then cluster those into k groups with k-means and ask the
 * member nearest each centroid. Top-k by margin alone tends to ask near-duplicates; the
 * clustering spreads the batch while staying among uncertain rows.
 *
 * Feature space: the embeddings when given, else the probabilities themselves (so the
 * strategy still works for a model without an embedding); the registry entry asks for both.
 *
 * Memory: the N margins (read back once, N numbers) and a [beta*k, D] gather of the shortlist;
 * the clustering runs on the shortlist only.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng.ts';
import { MARGIN_DIVERSE_BETA, marginDiverseFormula, STRATEGY_CATALOG } from '../catalog.ts';
import { SelectionError } from '../errors.ts';
import { margin } from '../measures/margin.ts';
import { exclusionMask, topKIndices, type SelectOptions } from '../select.ts';
import type { AcquisitionInputs, SetStrategy } from '../types.ts';
import { needRows, openRows } from './common.ts';
import { checkMatrix } from './distance.ts';
import { kmeans } from './kmeans.ts';

export interface MarginDiverseOptions {
  /** Shortlist size as a multiple of k: the beta * k smallest margins are clustered. @default 10 */
  beta?: number;
  /** Lloyd iteration cap of the clustering. @default 100 */
  maxIter?: number;
}

/**
 * Chooses k rows: among the `beta * k` smallest margins, one per k-means cluster (the member
 * nearest its centroid; ties to the more uncertain), returned most uncertain first. A cluster
 * left empty is made up by the most uncertain shortlisted row not yet chosen. If the shortlist
 * has at most k rows, it is returned as it is.
 *
 * @param probs [N, C] probabilities; rows with a NaN margin are never chosen
 * @param features [N, D] the space diversity is measured in (embeddings, or `probs`)
 * @example
 *   const picks = await marginDiverseSelect(probs, embeddings, 10, { rng: new Rng(1) });
 */
export async function marginDiverseSelect(
  probs: tf.Tensor2D,
  features: tf.Tensor2D,
  k: number,
  options: MarginDiverseOptions & { rng: Rng; exclude?: Uint8Array | null },
): Promise<Int32Array> {
  checkMatrix(probs, 'marginDiverse: probs');
  checkMatrix(features, 'marginDiverse: features', probs.shape[0]);
  if (!Number.isInteger(k) || k <= 0) throw new SelectionError(`marginDiverse: k must be a positive integer, got ${k}`);
  const beta = options.beta ?? MARGIN_DIVERSE_BETA;
  if (!(beta >= 1) || !Number.isFinite(beta)) throw new SelectionError(`marginDiverse: beta must be a finite number >= 1, got ${beta}`);
  const n = probs.shape[0];
  const excluded = options.exclude ?? null;
  const m = margin(probs);
  let margins: Float32Array;
  try {
    margins = (await m.data()) as Float32Array;
  } finally {
    m.dispose();
  }
  // Smallest margin first = largest -margin first (NaN stays NaN and is skipped).
  const neg = Float64Array.from(margins, (v) => -v);
  const open = openRows(n, excluded).length;
  if (open === 0) return new Int32Array(0);
  const shortlist = topKIndices(neg, Math.min(open, Math.max(k, Math.ceil(beta * k))), excluded);
  if (shortlist.length <= k) return shortlist;

  const sub = tf.tidy(() => tf.gather(features, tf.tensor1d(shortlist, 'int32'))) as tf.Tensor2D; // [M, D]
  let assign: Int32Array, dist: Float32Array, clusters: number;
  try {
    const r = await kmeans(sub, k, { rng: options.rng, ...(options.maxIter !== undefined ? { maxIter: options.maxIter } : {}) });
    try {
      [assign, dist] = (await Promise.all([r.assignments.data(), r.distances.data()])) as [Int32Array, Float32Array];
      clusters = r.seeds.length;
    } finally {
      r.dispose();
    }
  } finally {
    sub.dispose();
  }
  // Per cluster, the shortlist position nearest its centroid (positions are in uncertainty order,
  // so scanning in order keeps the more uncertain one on a tie).
  const best = new Int32Array(clusters).fill(-1);
  for (let pos = 0; pos < shortlist.length; pos++) {
    const a = assign[pos]!;
    const b = best[a]!;
    if (b < 0 || dist[pos]! < dist[b]!) best[a] = pos;
  }
  const chosen = new Uint8Array(shortlist.length);
  let count = 0;
  for (const pos of best) if (pos >= 0 && !chosen[pos]) { chosen[pos] = 1; count++; }
  for (let pos = 0; pos < shortlist.length && count < k; pos++) if (!chosen[pos]) { chosen[pos] = 1; count++; }
  const out: number[] = [];
  for (let pos = 0; pos < shortlist.length; pos++) if (chosen[pos]) out.push(shortlist[pos]!);
  return Int32Array.from(out);
}

/**
 * marginDiverse as a set strategy: needs probs and embeddings (if a caller gives no
 * embeddings, the probabilities serve as the feature space).
 */
export function marginDiverseStrategy(options: MarginDiverseOptions = {}): SetStrategy {
  const { name } = STRATEGY_CATALOG.marginDiverse;
  const beta = options.beta ?? MARGIN_DIVERSE_BETA;
  return {
    ...STRATEGY_CATALOG.marginDiverse,
    formula: marginDiverseFormula(beta),
    async select(inputs: AcquisitionInputs, k: number, sel: SelectOptions): Promise<Int32Array> {
      const probs = needRows(inputs, 'probs', name);
      const features = inputs.embeddings === undefined ? probs : needRows(inputs, 'embeddings', name);
      const excluded = exclusionMask(sel.exclude, inputs.n);
      return marginDiverseSelect(probs, features, k, { ...options, rng: inputs.rng, exclude: excluded });
    },
  };
}
