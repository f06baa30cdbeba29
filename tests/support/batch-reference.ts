/**
 * Independent float64 references for the batch-aware acquisition: plain loops over
 * samples[t][n][c] (T passes, N rows, C classes) written from the definitions, sharing no code
 * with src/. The joint entropy is enumerated over all C^n configurations directly (not by the
 * chain rule the module uses).
 */
import { baldRef, entropyRef } from './reference.ts';

export type Samples = number[][][];

/** E_w H[y_i | w]: the mean over passes of each pass's entropy of row i. */
export function expectedEntropyRef(s: Samples, i: number): number {
  return s.reduce((a, pass) => a + entropyRef(pass[i]!), 0) / s.length;
}

/** H[y_rows] of p(y) = (1/T) Σ_t Π_i p_t(y_i), by enumerating every configuration. */
export function jointEntropyRef(s: Samples, rows: readonly number[]): number {
  const t = s.length;
  const c = s[0]![0]!.length;
  const total = Math.pow(c, rows.length);
  const y = new Array<number>(rows.length).fill(0);
  let h = 0;
  for (let cfg = 0; cfg < total; cfg++) {
    let rest = cfg;
    for (let i = 0; i < rows.length; i++) {
      y[i] = rest % c;
      rest = Math.floor(rest / c);
    }
    let p = 0;
    for (let w = 0; w < t; w++) {
      let q = 1;
      for (let i = 0; i < rows.length; i++) q *= s[w]![rows[i]!]![y[i]!]!;
      p += q / t;
    }
    if (p > 0) h -= p * Math.log(p);
  }
  return h;
}

/** a_BatchBALD(rows) = I[y_rows; w] = H[y_rows] - Σ_i E_w H[y_i | w]. */
export function jointMutualInformationRef(s: Samples, rows: readonly number[]): number {
  return jointEntropyRef(s, rows) - rows.reduce((a, i) => a + expectedEntropyRef(s, i), 0);
}

export interface GreedyRef {
  picks: number[];
  /** a(A ∪ {pick}) - a(A) of each pick. */
  gains: number[];
  /** At each step, the best score minus the runner-up's (Infinity with one candidate). */
  gaps: number[];
}

/**
 * Greedy BatchBALD from the definition: at each step the open row maximising the joint mutual
 * information of the batch with it (ties to the lower index); rows in `excluded` never picked.
 */
export function greedyBatchBaldRef(s: Samples, k: number, excluded: ReadonlySet<number> = new Set()): GreedyRef {
  const n = s[0]!.length;
  const picks: number[] = [];
  const gains: number[] = [];
  const gaps: number[] = [];
  let current = 0;
  while (picks.length < k) {
    let best = -1, bestV = -Infinity, second = -Infinity;
    for (let i = 0; i < n; i++) {
      if (excluded.has(i) || picks.includes(i)) continue;
      const v = jointMutualInformationRef(s, [...picks, i]);
      if (v > bestV) {
        second = bestV;
        bestV = v;
        best = i;
      } else if (v > second) second = v;
    }
    if (best < 0) break;
    picks.push(best);
    gains.push(bestV - current);
    gaps.push(bestV - second);
    current = bestV;
  }
  return { picks, gains, gaps };
}

/** BALD of every row. */
export const baldAllRef = (s: Samples): number[] => s[0]!.map((_, i) => baldRef(s, i));
