/**
 * Paired statistics against scipy 1.10 / numpy (tests/fixtures/stats/fixtures.json, written once
 * by make-fixtures.py beside it with Debian's python3-scipy), known answers and properties.
 *
 * Conventions where we differ from scipy 1.10's wilcoxon, asserted below so the difference stays
 * visible:
 * - zeros (d = 0): both drop them (zero_method='wilcox'), but scipy 1.10 then refuses the exact
 *   method and silently uses the normal approximation (with a warning), even for n = 6; we keep
 *   the exact distribution of the nonzero differences.
 * - ties among |d|: scipy 1.10's exact method truncates W+ to an integer and uses the no-ties
 *   distribution; we use the exact distribution of the average ranks (the conditional test).
 *   The fixture's independent enumeration of all sign patterns gives our numbers.
 * - every difference 0: scipy raises; we report p = 1 (no evidence of a difference), n = 0.
 * Without zeros or ties, up to n = 50, the p-values are scipy's exactly (to 1e-12); beyond 50
 * both use the same normal approximation (to 1e-9). (Checked once by hand, not in the fixture:
 * scipy 1.17.1's default wilcoxon gives 0.5, 0.263671875 and 0.015625 for the cases
 * labels-ties-zero, labels-ties and zeros-no-ties, i.e. our numbers; later scipy moved to them.)
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  comparePaired, normalSf, pairedBootstrap, pairedDifferences, quantileSorted, signFlipTest, StatisticsError,
  wilcoxonSignedRank,
} from '../../src/engine/statistics.ts';
import { Rng } from '../../src/rng.ts';

interface ScipyWilcoxon { statistic?: number; pvalue?: number; error?: string; warnings?: string[] }
interface FixtureCase {
  name: string;
  a: number[];
  b: number[];
  d: number[];
  note: string;
  wilcoxon: { auto: ScipyWilcoxon; exact: ScipyWilcoxon; approx: ScipyWilcoxon };
  wilcoxon_conditional_exact: { n: number; r_plus: number; pvalue: number } | null;
  sign_flip: { pvalue: number; how: string } | null;
  bootstrap: { mean: number; standard_error: number; b10k: { low: number; high: number }; b1m: { low: number; high: number } };
}
const FIX = JSON.parse(readFileSync(new URL('../fixtures/stats/fixtures.json', import.meta.url), 'utf8')) as {
  scipy: string;
  cases: FixtureCase[];
  normal_sf: { z: number; sf: number }[];
};
const CASES = FIX.cases;
const byName = (name: string) => CASES.find((c) => c.name === name)!;

const relClose = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(b), 1e-300);

describe('statistics against scipy / numpy fixtures', () => {
  it('the fixtures come from scipy 1.10 and cover ties, zeros, n = 1 to 200', () => {
    expect(FIX.scipy.startsWith('1.10')).toBe(true);
    expect(CASES.length).toBeGreaterThanOrEqual(20);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: the paired differences are the fixture\'s, bit for bit', (_, c) => {
    expect(Array.from(pairedDifferences(c.a, c.b))).toEqual(c.d);
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s: Wilcoxon signed-rank (see the header for the conventions)', (_, c) => {
    const ours = wilcoxonSignedRank(c.d);
    const scipyAuto = c.wilcoxon.auto;
    if (ours.n === 0) {
      expect(scipyAuto.error).toMatch(/zero for all elements/); // scipy raises
      expect(ours.pValue).toBe(1);
      return;
    }
    expect(ours.statistic).toBe(scipyAuto.statistic); // min(W+, W-) with average ranks: the same
    if (ours.n > 50) {
      expect(ours.method).toBe('approx');
      expect(relClose(ours.pValue, scipyAuto.pvalue!, 1e-9)).toBe(true);
    } else if (ours.zeros === 0 && !ours.ties) {
      expect(ours.method).toBe('exact');
      expect(relClose(ours.pValue, scipyAuto.pvalue!, 1e-12)).toBe(true);
      expect(relClose(ours.pValue, c.wilcoxon.exact.pvalue!, 1e-12)).toBe(true);
    } else {
      // Zeros or ties: our exact conditional p against the fixture's own enumeration...
      expect(ours.method).toBe('exact');
      expect(relClose(ours.pValue, c.wilcoxon_conditional_exact!.pvalue, 1e-12)).toBe(true);
      expect(ours.rPlus).toBe(c.wilcoxon_conditional_exact!.r_plus);
      // ...where scipy 1.10 gives another number (normal approximation, or truncated W+).
      expect(Math.abs(ours.pValue - scipyAuto.pvalue!)).toBeGreaterThan(1e-3);
      if (ours.zeros > 0) expect(scipyAuto.warnings?.join(' ')).toMatch(/Switching to normal approximation/);
    }
    // The normal approximation itself, wherever scipy computed one.
    if (c.wilcoxon.approx.pvalue !== undefined) {
      const approx = wilcoxonSignedRank(c.d, { method: 'approx' });
      expect(approx.method).toBe('approx');
      expect(relClose(approx.pValue, c.wilcoxon.approx.pvalue, 1e-9)).toBe(true);
    }
  });

  it('the exact p beyond 50 (asked for) is close to scipy\'s exact one for the same data', () => {
    for (const name of ['alc-n51', 'alc-n80']) {
      const c = byName(name);
      const ours = wilcoxonSignedRank(c.d, { method: 'exact' });
      expect(ours.method).toBe('exact');
      if (!ours.ties && ours.zeros === 0) expect(relClose(ours.pValue, c.wilcoxon.exact.pvalue!, 1e-10)).toBe(true);
    }
  });

  it.each(CASES.filter((c) => c.sign_flip !== null).map((c) => [c.name, c] as const))('%s: exact sign-flip permutation test', (_, c) => {
    const ours = signFlipTest(c.d);
    expect(ours.exact).toBe(true);
    expect(ours.resamples).toBe(2 ** c.d.length);
    expect(relClose(ours.pValue, c.sign_flip!.pvalue, 1e-12)).toBe(true);
  });

  it.each(CASES.map((c, i) => [c.name, c, i] as const))('%s: bootstrap interval within 0.1 standard errors (or one lattice step) of numpy\'s (B = 1,000,000)', (_, c, i) => {
    // Tolerance: the Monte Carlo error of a 2.5% quantile of B = 10,000 bootstrap means is about
    // 0.027 standard errors of the mean (normal approximation), so 0.1 is about 3.7 of those;
    // numpy's own B = 10,000 interval is held to the same bound. Where the differences lie on a
    // lattice (integer labels-to-target), the bootstrap means do too, and a quantile may land on
    // either of two neighbouring atoms: one step (the smallest gap between distinct d, over n)
    // is allowed there. Measured: ours at most 0.047 standard errors from the B = 1,000,000
    // quantiles, numpy's B = 10,000 at most 0.058.
    const ours = pairedBootstrap(c.d, { rng: new Rng(1000 + i) });
    const ref = c.bootstrap;
    const distinct = [...new Set(c.d)].sort((x, y) => x - y);
    const gap = distinct.length > 1 ? Math.min(...distinct.slice(1).map((v, j) => v - distinct[j]!)) : 0;
    const lattice = c.d.every(Number.isInteger) ? gap / c.d.length : 0;
    const tol = Math.max(0.1 * ref.standard_error, lattice) + 1e-12;
    expect(ours.mean).toBeCloseTo(ref.mean, 12);
    expect(Math.abs(ours.low - ref.b1m.low)).toBeLessThanOrEqual(tol);
    expect(Math.abs(ours.high - ref.b1m.high)).toBeLessThanOrEqual(tol);
    expect(Math.abs(ref.b10k.low - ref.b1m.low)).toBeLessThanOrEqual(tol);
    expect(Math.abs(ref.b10k.high - ref.b1m.high)).toBeLessThanOrEqual(tol);
    expect(ours.low).toBeLessThanOrEqual(ours.high);
  });

  it.each(FIX.normal_sf.map((r) => [r.z, r.sf] as const))('normal tail P(Z > %s) = scipy norm.sf to 1e-12 relative', (z, sf) => {
    expect(relClose(normalSf(z), sf, 1e-12)).toBe(true);
  });
});

describe('statistics: known answers, conventions, properties', () => {
  it('Wilcoxon: [1.2, 0.4, 2.1, -0.3, 0.9] has W+ = 14, W- = 1, exact p = 4/32', () => {
    const r = wilcoxonSignedRank([1.2, 0.4, 2.1, -0.3, 0.9]);
    expect(r).toMatchObject({ n: 5, zeros: 0, ties: false, rPlus: 14, rMinus: 1, statistic: 1, method: 'exact' });
    expect(r.pValue).toBe(0.125);
  });

  it('Wilcoxon with a tie and a zero: ranks average, zeros drop out', () => {
    const r = wilcoxonSignedRank([2, -2, 3, 0, 5]); // |d| 2, 2, 3, 5 -> ranks 1.5, 1.5, 3, 4
    expect(r).toMatchObject({ n: 4, zeros: 1, ties: true, rPlus: 8.5, rMinus: 1.5, statistic: 1.5 });
    // W+ over the 16 sign patterns of (1.5, 1.5, 3, 4): W+ >= 8.5 in 3 of them (8.5, 8.5, 10).
    expect(r.pValue).toBe(2 * (3 / 16));
  });

  it('sign flip: [1, 2, 3] -> 2 of 8 sign vectors reach |sum| 6; a zero mean -> p = 1', () => {
    expect(signFlipTest([1, 2, 3]).pValue).toBe(0.25);
    expect(signFlipTest([1, -1, 2, -2]).pValue).toBe(1);
    expect(signFlipTest([0, 0]).pValue).toBe(1);
  });

  it('p-values do not change when the differences flip sign or are scaled (seeded property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 1, maxLength: 14 }), fc.double({ min: 0.01, max: 100, noNaN: true }), (d, scale) => {
        const neg = d.map((v) => -v);
        const scaled = d.map((v) => v * scale);
        const w = wilcoxonSignedRank(d).pValue;
        const s = signFlipTest(d).pValue;
        expect(wilcoxonSignedRank(neg).pValue).toBeCloseTo(w, 12);
        expect(signFlipTest(neg).pValue).toBeCloseTo(s, 12);
        expect(signFlipTest(scaled).pValue).toBeCloseTo(s, 9);
        for (const p of [w, s]) {
          expect(p).toBeGreaterThan(0);
          expect(p).toBeLessThanOrEqual(1);
        }
        // No test can reject below 2 / 2^n with n pairs.
        expect(s).toBeGreaterThanOrEqual(2 / 2 ** d.length - 1e-15);
      }),
      { seed: 1945, numRuns: 200 },
    );
  });

  it('sign flip beyond the exact n: random sign vectors within 4 standard errors of the exact count', () => {
    const rng = new Rng(4);
    const d = Array.from({ length: 36 }, () => rng.normal() * 0.02 + 0.004);
    const exact = signFlipTest(d, { exactMaxN: 36 });
    expect(exact.exact).toBe(true);
    const mc = signFlipTest(d, { rng: new Rng(5), resamples: 20_000 });
    expect(mc.exact).toBe(false);
    expect(mc.resamples).toBe(20_000);
    const se = Math.sqrt((exact.pValue * (1 - exact.pValue)) / 20_000);
    expect(Math.abs(mc.pValue - exact.pValue)).toBeLessThan(4 * se + 1e-4);
    expect(() => signFlipTest(d)).toThrow(/exceeds exactMaxN = 30; options.rng is needed/);
  });

  it('bootstrap: one repeat gives [d, d]; the same seed gives the same interval; it holds the mean', () => {
    expect(pairedBootstrap([0.03], { rng: new Rng(1) })).toMatchObject({ mean: 0.03, low: 0.03, high: 0.03, resamples: 10_000, confidence: 0.95 });
    const d = [0.02, 0.05, -0.01, 0.03, 0.04, 0.0, 0.01];
    const a = pairedBootstrap(d, { rng: new Rng(7) });
    expect(pairedBootstrap(d, { rng: new Rng(7) })).toEqual(a);
    expect(a.low).toBeLessThan(a.mean);
    expect(a.high).toBeGreaterThan(a.mean);
    const narrow = pairedBootstrap(d, { rng: new Rng(7), confidence: 0.5, resamples: 2000 });
    expect(narrow.high - narrow.low).toBeLessThan(a.high - a.low);
  });

  it('quantiles interpolate as numpy.percentile does', () => {
    const s = Float64Array.of(1, 2, 4, 8);
    expect(quantileSorted(s, 0)).toBe(1);
    expect(quantileSorted(s, 1)).toBe(8);
    expect(quantileSorted(s, 0.5)).toBe(3); // position 1.5
    expect(quantileSorted(s, 0.025)).toBeCloseTo(1.075, 12); // position 0.075
  });

  it('comparePaired: differences, interval and both tests from one seeded stream', () => {
    const a = [0.81, 0.79, 0.84, 0.8, 0.83, 0.82];
    const b = [0.78, 0.77, 0.8, 0.79, 0.79, 0.8];
    const r = comparePaired(a, b, { rng: new Rng(3) });
    expect(r.n).toBe(6);
    expect(r.differences).toEqual(a.map((v, i) => v - b[i]!));
    expect(r.meanDifference).toBeCloseTo(0.16 / 6, 12);
    expect(r.interval.low).toBeGreaterThan(0);
    expect(r.wilcoxon.pValue).toBe(2 / 64); // all six positive, no ties
    expect(r.signFlip.pValue).toBe(2 / 64);
    expect(comparePaired(a, b, { rng: new Rng(3) })).toEqual(r);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r); // plain data for the results file
  });

  it('says what is wrong and where', () => {
    expect(() => pairedDifferences([1, 2], [1])).toThrow(/2 values against 1/);
    expect(() => pairedDifferences([], [])).toThrow(/no pairs/);
    expect(() => pairedDifferences([1, Number.NaN], [1, 2])).toThrow(/first value of pair 1 is NaN/);
    expect(() => comparePaired([1, 2], [1, Infinity], { rng: new Rng(1) })).toThrow(/second value of pair 1 is Infinity/);
    expect(() => wilcoxonSignedRank([])).toThrow(StatisticsError);
    expect(() => wilcoxonSignedRank([1, Number.NaN])).toThrow(/difference 1 is NaN/);
    expect(() => wilcoxonSignedRank([1], { method: 'fast' as never })).toThrow(/method must be/);
    expect(() => pairedBootstrap([1], { rng: new Rng(1), resamples: 0 })).toThrow(/resamples must be a positive integer/);
    expect(() => pairedBootstrap([1], { rng: new Rng(1), confidence: 1 })).toThrow(/confidence must lie in \(0, 1\)/);
    expect(() => pairedBootstrap([1], {} as never)).toThrow(/rng/);
    expect(() => comparePaired([1], [2], {} as never)).toThrow(/rng/);
  });
});
