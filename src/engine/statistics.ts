/**
 * Paired comparison of two strategies over repeats (pure JS, no tfjs): repeat r ran both
 * strategies on the same split, initial set and seeds, so the evidence is in the paired
 * differences d_r = a_r - b_r (e.g. ALC of strategy a minus ALC of strategy b).
 *
 * - `pairedBootstrap`: the mean difference with a percentile bootstrap interval (Efron &
 *   Tibshirani 1993, ch. 13): B resamples of the n differences with replacement (seeded),
 *   the mean of each, and the (1 - c)/2 and (1 + c)/2 quantiles of those B means, taken as
 *   numpy's default `percentile` does (linear interpolation between order statistics). With
 *   n < 10 the percentile interval is too narrow (it cannot be wider than the range of d, and
 *   with n = 2 it covers a difference only 50% of the time); read it with the n beside it.
 * - `wilcoxonSignedRank`: the Wilcoxon signed-rank test, two-sided (Wilcoxon 1945). Zeros
 *   (d = 0) are dropped, scipy's default `zero_method='wilcox'`; the nonzero |d| get average
 *   ranks for ties; W+ is the rank sum of the positive d, and the statistic is min(W+, W-) as
 *   scipy reports it. The p-value is 2 min(P(W+ <= w), P(W+ >= w)), at most 1.
 *   Exact (n <= `exactMaxN` = 50 nonzero differences, the same threshold as scipy's
 *   `method='auto'`): the null distribution of W+ over all 2^n equally likely sign patterns of
 *   the actual ranks, by dynamic programming over doubled ranks (midranks are multiples of 1/2).
 *   Without zeros or ties this is exactly scipy 1.10's exact distribution and p-value. Where
 *   they differ, stated: with zeros, scipy 1.10 gives up the exact method and uses the normal
 *   approximation; here the zeros are dropped and the exact test runs on the rest. With tied
 *   |d|, scipy 1.10's exact method truncates W+ to an integer and uses the no-ties
 *   distribution; here the distribution is that of the tied ranks (the conditional exact test).
 *   Beyond 50: the normal approximation, as scipy's `method='approx'` with its defaults
 *   (no continuity correction; variance n(n+1)(2n+1)/24 - Σ(t³ - t)/48 over tie groups of size t).
 * - `signFlipTest`: the exact paired permutation test (Fisher 1935): under the null each d_r is
 *   as likely to have had the other sign, so p = P(|Σ ε_r d_r| >= |Σ d_r|) over all 2^n sign
 *   vectors ε, counted exactly for n <= `exactMaxN` = 30 (meet in the middle: two halves of 2^15
 *   sums, one sorted), else estimated from B random sign vectors as (1 + hits) / (1 + B).
 *   Sums within 1e-9 Σ|d| of the observed one count as equal (float rounding). This equals
 *   scipy's `permutation_test(..., permutation_type='samples')` with the mean difference.
 *
 * Every input must be finite; a non-finite value throws `StatisticsError` naming the index.
 */
import type { Rng } from '../rng.ts';

/** Bad input to a statistic: says what was wrong and where. */
export class StatisticsError extends Error {
  override readonly name = 'StatisticsError';
}

/** Default bootstrap resamples B. @default 10,000 */
export const DEFAULT_RESAMPLES = 10_000;
/** Largest number of nonzero differences with the exact Wilcoxon distribution (as scipy's 'auto'). */
export const WILCOXON_EXACT_MAX_N = 50;
/** Largest n whose 2^n sign vectors are all counted. */
export const SIGN_FLIP_EXACT_MAX_N = 30;

/** d_r = a_r - b_r, checked: the same length, at least one pair, every value finite. */
export function pairedDifferences(a: ArrayLike<number>, b: ArrayLike<number>, what = 'paired values'): Float64Array {
  if (a.length !== b.length) throw new StatisticsError(`${what}: ${a.length} values against ${b.length}; a paired comparison needs one of each per repeat`);
  if (a.length === 0) throw new StatisticsError(`${what}: no pairs (at least one repeat is needed)`);
  const d = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (!Number.isFinite(x)) throw new StatisticsError(`${what}: first value of pair ${i} is ${x}, not a finite number`);
    if (!Number.isFinite(y)) throw new StatisticsError(`${what}: second value of pair ${i} is ${y}, not a finite number`);
    d[i] = x - y;
  }
  return d;
}

function checkDifferences(d: ArrayLike<number>, what: string): void {
  if (d.length === 0) throw new StatisticsError(`${what}: no differences (at least one repeat is needed)`);
  for (let i = 0; i < d.length; i++) {
    if (!Number.isFinite(d[i]!)) throw new StatisticsError(`${what}: difference ${i} is ${d[i]}, not a finite number`);
  }
}

const mean = (d: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < d.length; i++) s += d[i]!;
  return s / d.length;
};

export interface BootstrapOptions {
  /** The resampling stream (e.g. `rng.fork('stats:bald-vs-random:alc')`). */
  rng: Rng;
  /** Resamples B. @default DEFAULT_RESAMPLES (10,000) */
  resamples?: number;
  /** Coverage of the interval, in (0, 1). @default 0.95 */
  confidence?: number;
}

export interface BootstrapInterval {
  /** The observed mean difference. */
  mean: number;
  low: number;
  high: number;
  confidence: number;
  resamples: number;
}

/**
 * The mean of `d` with a seeded percentile bootstrap interval.
 * @example
 *   pairedBootstrap([0.02, 0.05, -0.01, 0.03], { rng: new Rng(1) })  // {mean: 0.0225, low: ..., high: ...}
 */
export function pairedBootstrap(d: ArrayLike<number>, options: BootstrapOptions): BootstrapInterval {
  checkDifferences(d, 'pairedBootstrap');
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  const confidence = options.confidence ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) throw new StatisticsError(`pairedBootstrap: resamples must be a positive integer, got ${resamples}`);
  if (!(confidence > 0 && confidence < 1)) throw new StatisticsError(`pairedBootstrap: confidence must lie in (0, 1), got ${confidence}`);
  if (typeof options.rng?.int !== 'function') throw new StatisticsError('pairedBootstrap: options.rng (an Rng) is required');
  const n = d.length;
  const means = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[options.rng.int(n)]!;
    means[b] = s / n;
  }
  means.sort();
  const tail = (1 - confidence) / 2;
  return { mean: mean(d), low: quantileSorted(means, tail), high: quantileSorted(means, 1 - tail), confidence, resamples };
}

/** numpy's default percentile ('linear'): position q (n - 1) between order statistics. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const a = sorted[lo]!, b = sorted[hi]!;
  return a + (h - lo) * (b - a);
}

export interface WilcoxonOptions {
  /** 'auto': exact up to `exactMaxN` nonzero differences, else the normal approximation. @default 'auto' */
  method?: 'auto' | 'exact' | 'approx';
  /** @default WILCOXON_EXACT_MAX_N (50) */
  exactMaxN?: number;
}

export interface WilcoxonResult {
  /** Nonzero differences, the n of the test. */
  n: number;
  /** Differences equal to 0, dropped. */
  zeros: number;
  /** Whether some nonzero |d| are tied (average ranks were used). */
  ties: boolean;
  /** Rank sums of the positive and the negative differences. */
  rPlus: number;
  rMinus: number;
  /** min(rPlus, rMinus), as scipy reports for the two-sided test. */
  statistic: number;
  /** Two-sided. 1 when every difference is 0. */
  pValue: number;
  method: 'exact' | 'approx';
  /** The normal approximation's z (approx only). */
  z?: number;
}

/**
 * Two-sided Wilcoxon signed-rank test of the paired differences (see the module comment for the
 * conventions and where they differ from scipy 1.10).
 * @example
 *   wilcoxonSignedRank([1.2, 0.4, 2.1, -0.3, 0.9]).pValue  // 0.125 (exact: W+ = 14 of 15)
 */
export function wilcoxonSignedRank(d: ArrayLike<number>, options: WilcoxonOptions = {}): WilcoxonResult {
  checkDifferences(d, 'wilcoxonSignedRank');
  const method = options.method ?? 'auto';
  const exactMaxN = options.exactMaxN ?? WILCOXON_EXACT_MAX_N;
  if (method !== 'auto' && method !== 'exact' && method !== 'approx') throw new StatisticsError(`wilcoxonSignedRank: method must be 'auto', 'exact' or 'approx', got '${String(method)}'`);
  const nonzero: number[] = [];
  for (let i = 0; i < d.length; i++) if (d[i] !== 0) nonzero.push(d[i]!);
  const n = nonzero.length;
  const zeros = d.length - n;
  if (n === 0) return { n: 0, zeros, ties: false, rPlus: 0, rMinus: 0, statistic: 0, pValue: 1, method: method === 'approx' ? 'approx' : 'exact' };

  // Average ranks of |d| (1-based), doubled so they are integers.
  const order = nonzero.map((_, i) => i).sort((i, j) => Math.abs(nonzero[i]!) - Math.abs(nonzero[j]!));
  const rank2 = new Int32Array(n);
  const tieSizes: number[] = [];
  for (let s = 0; s < n; ) {
    let e = s;
    while (e + 1 < n && Math.abs(nonzero[order[e + 1]!]!) === Math.abs(nonzero[order[s]!]!)) e++;
    const r2 = s + 1 + (e + 1); // 2 x the average of ranks s+1 .. e+1
    for (let j = s; j <= e; j++) rank2[order[j]!] = r2;
    if (e > s) tieSizes.push(e - s + 1);
    s = e + 1;
  }
  let plus2 = 0, total2 = 0;
  for (let i = 0; i < n; i++) {
    total2 += rank2[i]!;
    if (nonzero[i]! > 0) plus2 += rank2[i]!;
  }
  const rPlus = plus2 / 2, rMinus = (total2 - plus2) / 2;
  const statistic = Math.min(rPlus, rMinus);
  const base = { n, zeros, ties: tieSizes.length > 0, rPlus, rMinus, statistic };

  if (method === 'exact' || (method === 'auto' && n <= exactMaxN)) {
    // P(W+ = s/2) for every doubled sum s, over independent fair signs.
    let dist = new Float64Array(total2 + 1);
    dist[0] = 1;
    let reach = 0;
    for (let i = 0; i < n; i++) {
      const r = rank2[i]!;
      const next = new Float64Array(total2 + 1);
      for (let s = 0; s <= reach; s++) {
        const p = dist[s]! / 2;
        if (p === 0) continue;
        next[s] = next[s]! + p;
        next[s + r] = next[s + r]! + p;
      }
      reach += r;
      dist = next;
    }
    let less = 0, greater = 0;
    for (let s = 0; s <= total2; s++) {
      if (s <= plus2) less += dist[s]!;
      if (s >= plus2) greater += dist[s]!;
    }
    return { ...base, pValue: Math.min(1, 2 * Math.min(less, greater)), method: 'exact' };
  }
  const mn = (n * (n + 1)) / 4;
  let variance = (n * (n + 1) * (2 * n + 1)) / 24;
  for (const t of tieSizes) variance -= (t * t * t - t) / 48;
  const z = (statistic - mn) / Math.sqrt(variance);
  return { ...base, pValue: Math.min(1, 2 * normalSf(Math.abs(z))), method: 'approx', z };
}

export interface SignFlipOptions {
  /** Largest n counted exactly. @default SIGN_FLIP_EXACT_MAX_N (30) */
  exactMaxN?: number;
  /** Needed beyond exactMaxN: the stream of the random sign vectors. */
  rng?: Rng;
  /** Random sign vectors beyond exactMaxN. @default DEFAULT_RESAMPLES (10,000) */
  resamples?: number;
}

export interface SignFlipResult {
  n: number;
  /** The observed mean difference. */
  statistic: number;
  /** Two-sided: P(|mean of ε d| >= |mean of d|). */
  pValue: number;
  exact: boolean;
  /** Sign vectors counted: 2^n when exact. */
  resamples: number;
}

/**
 * Paired permutation (sign-flip) test of the mean difference, two-sided.
 * @example
 *   signFlipTest([1, 2, 3]).pValue  // 0.25: only (+,+,+) and (-,-,-) reach |sum| = 6 of 8
 */
export function signFlipTest(d: ArrayLike<number>, options: SignFlipOptions = {}): SignFlipResult {
  checkDifferences(d, 'signFlipTest');
  const n = d.length;
  const exactMaxN = options.exactMaxN ?? SIGN_FLIP_EXACT_MAX_N;
  if (!Number.isInteger(exactMaxN) || exactMaxN < 0 || exactMaxN > 40) throw new StatisticsError(`signFlipTest: exactMaxN must be an integer in [0, 40], got ${exactMaxN}`);
  let observed = 0, scale = 0;
  for (let i = 0; i < n; i++) {
    observed += d[i]!;
    scale += Math.abs(d[i]!);
  }
  const statistic = observed / n;
  const threshold = Math.abs(observed) - 1e-9 * scale; // sums this close to |observed| count as reaching it
  if (n <= exactMaxN) {
    const total = 2 ** n;
    if (!(threshold > 0)) return { n, statistic, pValue: 1, exact: true, resamples: total };
    const h = n >> 1;
    const left = subsetSums(d, 0, h);
    const right = subsetSums(d, h, n).sort();
    let hits = 0;
    for (let i = 0; i < left.length; i++) {
      const a = left[i]!;
      hits += right.length - lowerBound(right, threshold - a); // a + b >= threshold
      hits += upperBound(right, -threshold - a); // a + b <= -threshold
    }
    return { n, statistic, pValue: Math.min(1, hits / total), exact: true, resamples: total };
  }
  const rng = options.rng;
  if (typeof rng?.uint32 !== 'function') throw new StatisticsError(`signFlipTest: n = ${n} exceeds exactMaxN = ${exactMaxN}; options.rng is needed for random sign vectors`);
  const resamples = options.resamples ?? DEFAULT_RESAMPLES;
  if (!Number.isInteger(resamples) || resamples < 1) throw new StatisticsError(`signFlipTest: resamples must be a positive integer, got ${resamples}`);
  let hits = 0;
  for (let b = 0; b < resamples; b++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += (rng.uint32() & 1) === 1 ? d[i]! : -d[i]!;
    if (Math.abs(s) >= threshold) hits++;
  }
  return { n, statistic, pValue: Math.min(1, (1 + hits) / (1 + resamples)), exact: false, resamples };
}

/** Σ ε_i d_i for every sign vector of d[from, to): 2^(to - from) sums. */
function subsetSums(d: ArrayLike<number>, from: number, to: number): Float64Array {
  const m = to - from;
  const out = new Float64Array(2 ** m);
  for (let mask = 0; mask < out.length; mask++) {
    let s = 0;
    for (let j = 0; j < m; j++) s += (mask >>> j) & 1 ? d[from + j]! : -d[from + j]!;
    out[mask] = s;
  }
  return out;
}

/** First index with sorted[i] >= x. */
function lowerBound(sorted: Float64Array, x: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of entries <= x. */
function upperBound(sorted: Float64Array, x: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The standard normal upper tail P(Z > x) = erfc(x / √2) / 2, to about 1e-15 relative: the
 * everywhere-convergent series erf(y) = (2/√π) e^(-y²) Σ_k 2^k y^(2k+1) / (1·3·…·(2k+1)) for
 * y < 2 (all terms positive, no cancellation), and the continued fraction of erfc (modified
 * Lentz) beyond. Negative x by symmetry.
 */
export function normalSf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 1 - normalSf(-x);
  const y = x / Math.SQRT2;
  if (y < 2) {
    let term = y, sum = y;
    for (let k = 1; k < 200 && term > sum * 1e-17; k++) {
      term *= (2 * y * y) / (2 * k + 1);
      sum += term;
    }
    const erf = (2 / Math.sqrt(Math.PI)) * Math.exp(-y * y) * sum;
    return (1 - erf) / 2;
  }
  // erfc(y) = e^(-y²)/√π · 1 / (y + (1/2) / (y + 1 / (y + (3/2) / (y + 2 / (y + ...)))))
  const tiny = 1e-300;
  let f = y, c = y, dd = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    dd = y + a * dd;
    dd = dd === 0 ? tiny : dd;
    c = y + a / c;
    c = c === 0 ? tiny : c;
    dd = 1 / dd;
    const delta = c * dd;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-y * y) / Math.sqrt(Math.PI) / f / 2;
}

export interface PairedComparisonOptions {
  /** The comparison's own stream; the bootstrap and (n > 30) the sign flips fork from it. */
  rng: Rng;
  /** Bootstrap resamples B. @default DEFAULT_RESAMPLES (10,000) */
  resamples?: number;
  /** @default 0.95 */
  confidence?: number;
}

export interface PairedComparison {
  /** Number of repeats (pairs). */
  n: number;
  /** a_r - b_r per repeat. */
  differences: number[];
  meanDifference: number;
  /** Percentile bootstrap interval of the mean difference. */
  interval: BootstrapInterval;
  wilcoxon: WilcoxonResult;
  signFlip: SignFlipResult;
}

/**
 * Everything a summary row needs to say whether a beats b over the repeats: the paired
 * differences, their mean with a bootstrap interval, the Wilcoxon signed-rank test and the
 * sign-flip permutation test.
 * @param a one value per repeat for the first strategy (e.g. its ALC), b the same for the second
 * @example
 *   comparePaired(alcBald, alcRandom, { rng: stream(seed, 'stats', 'bald-vs-random', 'alc') })
 */
export function comparePaired(a: ArrayLike<number>, b: ArrayLike<number>, options: PairedComparisonOptions): PairedComparison {
  const d = pairedDifferences(a, b);
  if (typeof options.rng?.fork !== 'function') throw new StatisticsError('comparePaired: options.rng (an Rng) is required');
  const interval = pairedBootstrap(d, {
    rng: options.rng.fork('bootstrap'),
    ...(options.resamples !== undefined ? { resamples: options.resamples } : {}),
    ...(options.confidence !== undefined ? { confidence: options.confidence } : {}),
  });
  return {
    n: d.length,
    differences: Array.from(d),
    meanDifference: interval.mean,
    interval,
    wilcoxon: wilcoxonSignedRank(d),
    signFlip: signFlipTest(d, { rng: options.rng.fork('sign-flip') }),
  };
}
