/**
 * Stochastic batch acquisition (Kirsch, Farquhar, Atighehchian, Jesson, Branchaud-Charron & Gal,
 * "Stochastic Batch Acquisition: A Simple Baseline for Deep Active Learning", TMLR 2023).
 *
 * Top-k treats a round's scores as if they would not change as the batch is labeled; sampling
 * the batch from a distribution over the scores instead spreads it, at no extra model cost.
 * Over the open rows (not excluded, score not NaN), with coldness β >= 0:
 *   softmax:  p(i) ∝ exp(β s_i)
 *   power:    p(i) ∝ s_i^β          (scores must be >= 0, e.g. BALD, entropy)
 *   softrank: p(i) ∝ r_i^(-β)       (r_i = 1 for the highest score; any score)
 * The batch is drawn without replacement by the Gumbel-top-k trick: key_i = log w_i + g_i with
 * g_i = -log(-log u_i), u_i uniform in (0, 1) from the seeded `Rng` (one draw per open row, in
 * row order), and the k largest keys, in order, are the batch (Vieira 2014; Kool et al. 2019):
 * the first pick has probability w_i / Σ w, each later one the same among the rows left.
 * The paper writes the same as s_i + ε_i with ε_i ~ Gumbel(0, 1/β).
 *
 * Conventions, stated:
 * - β = 0 is uniform over the open rows; β = Infinity is exactly top-k (`topKIndices`: ties to
 *   the lower index) and draws nothing from the rng; large finite β approaches it.
 * - Rows of weight 0 (power: score 0; softmax: score -Infinity) come after every row of positive
 *   weight, in uniformly random order; rows of infinite weight (score +Infinity) come first, in
 *   uniformly random order. So k beyond the rows of positive weight still returns k rows.
 * - softrank ranks the open rows by score, highest first, ties to the lower index.
 * - softmax is computed as exp(β (s_i - max s)), so it never overflows.
 * Excluded rows and NaN scores are never drawn.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng.ts';
import { SelectionError } from '../errors.ts';
import { checkK, exclusionMask, topKIndices, type SelectOptions } from '../select.ts';

import { STOCHASTIC_MODES, type StochasticMode } from '../catalog.ts';

export { STOCHASTIC_MODES, type StochasticMode };

export interface StochasticOptions {
  mode: StochasticMode;
  /** Coldness β >= 0 (Infinity = top-k). @default 1 (the paper's default) */
  beta?: number;
  /** The draws' stream (the strategy's own). */
  rng: Rng;
  /** Rows never drawn: pool indices or a mask of length N (non-zero = excluded). */
  exclude?: SelectOptions['exclude'];
}

/**
 * log w_i of every row (unnormalised log-probability of being drawn first): NaN for rows that are
 * never drawn (excluded or NaN score), -Infinity for weight 0, +Infinity for infinite weight.
 * Throws for a negative score in power mode (naming the row).
 */
export function stochasticLogWeights(values: ArrayLike<number>, mode: StochasticMode, beta: number, excluded: Uint8Array | null = null): Float64Array {
  checkMode(mode, beta);
  const n = values.length;
  const out = new Float64Array(n).fill(Number.NaN);
  const open = (i: number) => {
    const v = values[i]!;
    return v === v && (excluded === null || excluded[i] === 0);
  };
  if (mode === 'softrank') {
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (open(i)) rows.push(i);
    rows.sort((a, b) => values[b]! - values[a]! || a - b); // highest first; Infinity - Infinity is NaN -> by index
    rows.forEach((i, r) => (out[i] = beta === 0 ? 0 : -beta * Math.log(r + 1)));
    return out;
  }
  if (mode === 'power') {
    for (let i = 0; i < n; i++) {
      if (!open(i)) continue;
      const v = values[i]!;
      if (v < 0) throw new SelectionError(`power sampling needs scores >= 0 (p ∝ s^β); row ${i} has score ${v}: use softmax or softrank for signed scores`);
      out[i] = beta === 0 ? 0 : beta * Math.log(v);
    }
    return out;
  }
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (open(i) && values[i]! > max) max = values[i]!;
  for (let i = 0; i < n; i++) {
    if (!open(i)) continue;
    const v = values[i]!;
    if (beta === 0) out[i] = 0;
    else if (max === -Infinity) out[i] = -Infinity; // every open score is -Infinity: all weight 0
    else if (max === Infinity) out[i] = v === Infinity ? Infinity : -Infinity;
    else out[i] = beta * (v - max); // <= 0; -Infinity for v = -Infinity
  }
  return out;
}

/**
 * Draws up to `k` distinct rows without replacement, in draw order, with the probabilities of
 * `mode` (see the module comment). Reads nothing from the backend: `values` are plain numbers.
 *
 * @example
 *   stochasticIndices(Float32Array.of(0.1, 0.9, 0.5), 2, { mode: 'power', beta: 1, rng })  // e.g. [1, 2]
 */
export function stochasticIndices(values: ArrayLike<number>, k: number, options: StochasticOptions): Int32Array {
  checkK(k);
  const { mode, rng } = options;
  const beta = options.beta ?? 1;
  checkMode(mode, beta);
  if (typeof rng?.uint32 !== 'function') throw new SelectionError('stochastic sampling: options.rng (an Rng) is required');
  const excluded = exclusionMask(options.exclude, values.length);
  if (beta === Infinity) {
    if (mode === 'power') stochasticLogWeights(values, mode, 1, excluded); // the same check of the scores
    return topKIndices(values, k, excluded);
  }
  const logW = stochasticLogWeights(values, mode, beta, excluded);
  // Keys by tier: 0 = infinite weight, 1 = positive finite weight, 2 = weight 0. Within tiers 0
  // and 2 the key is the Gumbel noise alone (uniform order).
  const rows: number[] = [];
  const tier = new Uint8Array(values.length);
  const key = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const l = logW[i]!;
    if (l !== l) continue;
    const u = (rng.uint32() + 0.5) / 4294967296; // in (0, 1): never 0 or 1
    const g = -Math.log(-Math.log(u));
    tier[i] = l === Infinity ? 0 : l === -Infinity ? 2 : 1;
    key[i] = tier[i] === 1 ? l + g : g;
    rows.push(i);
  }
  rows.sort((a, b) => tier[a]! - tier[b]! || key[b]! - key[a]! || a - b);
  return Int32Array.from(rows.slice(0, k));
}

/**
 * `stochasticIndices` over a score tensor: reads the N scores back once with an async `data()`
 * (never N x C); the caller keeps ownership of `scores`.
 *
 * @param scores [N] informativeness, higher = ask first (any scoring strategy's output)
 * @example
 *   const picks = await stochasticSelect(bald(mc), 10, { mode: 'power', beta: 1, rng: rng.fork('power') });
 */
export async function stochasticSelect(scores: tf.Tensor, k: number, options: StochasticOptions): Promise<Int32Array> {
  if (!(scores instanceof tf.Tensor) || scores.rank !== 1) {
    const got = scores instanceof tf.Tensor ? `shape [${scores.shape.join(', ')}]` : typeof scores;
    throw new SelectionError(`stochasticSelect: scores must be a rank-1 tensor [N], got ${got}`);
  }
  checkK(k);
  checkMode(options.mode, options.beta ?? 1);
  return stochasticIndices(await scores.data(), k, options);
}

function checkMode(mode: StochasticMode, beta: number): void {
  if (!(STOCHASTIC_MODES as readonly string[]).includes(mode)) {
    throw new SelectionError(`stochastic sampling: unknown mode '${String(mode)}'; known modes: ${STOCHASTIC_MODES.join(', ')}`);
  }
  if (!(beta >= 0)) throw new SelectionError(`stochastic sampling: beta must be >= 0 (Infinity = top-k), got ${beta}`);
}
