/**
 * The measures on every backend of this environment (Node: cpu, wasm; Chromium: webgl, wasm),
 * against the seeds' worked numbers, an independent float64 reference, and properties.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bald, entropy, InvalidProbabilitiesError, leastConfidence, margin, meanObjectConfidence, meanStd,
  predictiveEntropy, ratio, variance, variationRatio,
} from '../../src/index.ts';
import { Rng } from '../../src/rng.ts';
import { STRATEGIES } from '../../src/acquisition/strategies.ts';
import { onBackend, TEST_BACKENDS, TOLERANCE, isGpuBackend } from '../support/backends.ts';
import * as ref from '../support/reference.ts';
import { mcSamples, permutation, probMatrix } from '../support/arbitraries.ts';

/** Runs a tensor-producing call, reads it back, disposes it. */
async function values(make: () => tf.Tensor): Promise<number[]> {
  const t = make();
  const v = Array.from(await t.data());
  t.dispose();
  return v;
}

function expectClose(actual: number[], expected: number[], tol: number): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i]!;
    if (Math.abs(a - e) > tol * Math.max(1, Math.abs(e))) {
      expect.fail(`index ${i}: got ${a}, expected ${e} (tolerance ${tol})`);
    }
  });
}

const ROW_MEASURES = { entropy, margin, leastConfidence, ratio, variance } as const;
const ROW_REFS = {
  entropy: (p: number[]) => ref.entropyRef(p),
  margin: ref.marginRef,
  leastConfidence: ref.leastConfidenceRef,
  ratio: ref.ratioRef,
  variance: ref.varianceRef,
} as const;
const MC_MEASURES = { predictiveEntropy, bald, variationRatio, meanStd } as const;
const MC_REFS = {
  predictiveEntropy: ref.predictiveEntropyRef,
  bald: ref.baldRef,
  variationRatio: ref.variationRatioRef,
  meanStd: ref.meanStdRef,
} as const;

/** A fixed [n, c] matrix of rows of varied sharpness, some with exact zeros, from a seed. */
function randomProbs(rng: Rng, n: number, c: number): number[][] {
  return Array.from({ length: n }, (_, i) => {
    const sharp = [0.3, 1, 4, 12][i % 4]!;
    const w = Array.from({ length: c }, (_, j) => (i % 5 === 0 && j % 3 === 1 ? 0 : Math.pow(rng.next() + 1e-3, sharp)));
    const s = w.reduce((a, b) => a + b, 0);
    return Array.from(Float32Array.from(w.map((v) => v / s)));
  });
}
function randomLogits(rng: Rng, n: number, c: number, scale: number): number[][] {
  return Array.from({ length: n }, () => Array.from(Float32Array.from({ length: c }, () => rng.normal() * scale)));
}

describe.each(TEST_BACKENDS)('measures on %s', (backend) => {
  onBackend(backend);
  const tol = TOLERANCE[backend];

  describe('pinned values', () => {
    it('seed 000: H2([0.5, 0.5]) = 1 bit, H([1, 0]) = 0 exactly', async () => {
      const h = await values(() => entropy(tf.tensor2d([[0.5, 0.5], [1, 0]]), { base: 2 }));
      expectClose(h, [1, 0], tol);
      expect(Object.is(h[1], 0)).toBe(true); // +0, not -0 or NaN
    });

    it('scikit-activeml probs [[.2,.5,.3],[.1,.7,.2]]: least confidence and entropy', async () => {
      const probs = () => tf.tensor2d([[0.2, 0.5, 0.3], [0.1, 0.7, 0.2]]);
      expectClose(await values(() => leastConfidence(probs())), [0.5, 0.3], tol);
      expectClose(await values(() => entropy(probs())), [1.029653014, 0.8018185525], tol);
    });

    it('margin is p(1) - p(2): [0.2, 0.5] for the same probs, not the issue\'s [0.3, 0.6]', async () => {
      // The issue quotes margin [0.3, 0.6] for [[.2,.5,.3],[.1,.7,.2]]. That is p(1) - p(C),
      // highest minus LOWEST (0.5 - 0.2, 0.7 - 0.1). Seeds 001 and 004 define the margin as the
      // highest minus the second highest: 0.5 - 0.3 = 0.2 and 0.7 - 0.2 = 0.5. The formula wins.
      const m = await values(() => margin(tf.tensor2d([[0.2, 0.5, 0.3], [0.1, 0.7, 0.2]])));
      expectClose(m, [0.2, 0.5], tol);
      expect(Math.abs(m[0]! - 0.3)).toBeGreaterThan(0.05);
    });

    it('Hasty variance: [0.5, 0.45, 0.05] -> 0.0406, [0.4, 0.3, 0.3] -> 0.00222 (not the page\'s 0.0067)', async () => {
      // The page's 0.0067 for the second row is the sum of squared deviations without the 1/C
      // factor of its own formula (0.00667 / 3 = 0.00222); the formula wins and the ranking is the same.
      const v = await values(() => variance(tf.tensor2d([[0.5, 0.45, 0.05], [0.4, 0.3, 0.3]])));
      expectClose(v, [0.040555556, 0.002222222], tol);
      expect(v[0]!).toBeCloseTo(0.0406, 4);
      expect(v[1]!).toBeCloseTo(0.00222, 5);
    });

    it('a tie for the top class: margin 0 and ratio 1 (only one copy of the max is knocked out)', async () => {
      const t = () => tf.tensor2d([[0.4, 0.4, 0.2], [0.1, 0.45, 0.45]]);
      expect(await values(() => margin(t()))).toEqual([0, 0]);
      expect(await values(() => ratio(t()))).toEqual([1, 1]);
      expectClose(await values(() => ratio(tf.log(t()) as tf.Tensor2D, { fromLogits: true })), [1, 1], tol);
    });

    it('tiny probabilities keep their p log p: the log floor lies far below them on float32 backends', async () => {
      // [1 - 9e-6, 1e-6 x 9]: H = 1.3335e-4 nats, of which 1.243e-4 comes from the nine 1e-6 entries.
      // A floor of 1e-4 (what tfjs-webgl's epsilon() would give) would report ~9.2e-5.
      const row = [1 - 9e-6, ...new Array<number>(9).fill(1e-6)];
      const h = await values(() => entropy(tf.tensor2d([row])));
      const want = ref.entropyRef(Array.from(Float32Array.from(row)));
      expect(Math.abs(h[0]! - want) / want).toBeLessThan(0.05);
    });

    it('ratio of [.2,.5,.3] is 0.3 / 0.5 = 0.6', async () => {
      expectClose(await values(() => ratio(tf.tensor2d([[0.2, 0.5, 0.3]]))), [0.6], tol);
    });

    it('one-hot rows: entropy exactly 0, margin 1, least confidence 0, ratio 0, no NaN', async () => {
      const oneHot = () => tf.tensor2d([[1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]]);
      const h = await values(() => entropy(oneHot()));
      expect(h).toEqual([0, 0, 0]);
      expect(await values(() => margin(oneHot()))).toEqual([1, 1, 1]);
      expect(await values(() => leastConfidence(oneHot()))).toEqual([0, 0, 0]);
      expect(await values(() => ratio(oneHot()))).toEqual([0, 0, 0]);
      expectClose(await values(() => variance(oneHot())), [0.1875, 0.1875, 0.1875], tol);
    });

    it.each([2, 3, 10, 100])('a uniform row of C = %i: entropy log C, margin 0, variance 0', async (c) => {
      const u = () => tf.fill([2, c], 1 / c) as tf.Tensor2D;
      expectClose(await values(() => entropy(u())), [Math.log(c), Math.log(c)], tol);
      expectClose(await values(() => entropy(u(), { base: 2 })), [Math.log2(c), Math.log2(c)], tol);
      expect(await values(() => margin(u()))).toEqual([0, 0]);
      for (const v of await values(() => variance(u()))) expect(Math.abs(v)).toBeLessThan(1e-10);
      expectClose(await values(() => ratio(u())), [1, 1], tol);
      expectClose(await values(() => leastConfidence(u())), [1 - 1 / c, 1 - 1 / c], tol);
    });

    it('MC measures: passes that are each certain but disagree', async () => {
      // Two passes, one row: [1, 0] then [0, 1]. Mean [0.5, 0.5]: PE = log 2, each pass H = 0,
      // so BALD = log 2; votes 1 and 1, VR = 1 - 1/2; std of each class 0.5, meanStd 0.5.
      const s = () => tf.tensor3d([[[1, 0]], [[0, 1]]]);
      expectClose(await values(() => predictiveEntropy(s())), [Math.LN2], tol);
      expectClose(await values(() => bald(s())), [Math.LN2], tol);
      expectClose(await values(() => variationRatio(s())), [0.5], tol);
      expectClose(await values(() => meanStd(s())), [0.5], tol);
    });

    it('MC measures: passes that agree give BALD 0, VR 0, meanStd 0', async () => {
      const s = () => tf.tensor3d([[[0.7, 0.2, 0.1]], [[0.7, 0.2, 0.1]], [[0.7, 0.2, 0.1]]]);
      const pe = ref.entropyRef([0.7, 0.2, 0.1]);
      expectClose(await values(() => predictiveEntropy(s())), [pe], tol);
      expectClose(await values(() => bald(s())), [0], tol);
      expect(await values(() => variationRatio(s()))).toEqual([0]);
      expectClose(await values(() => meanStd(s())), [0], tol);
    });

    it('variation ratio: 3 passes, votes 0, 0, 1 -> 1/3', async () => {
      const s = tf.tensor3d([[[0.9, 0.1]], [[0.8, 0.2]], [[0.3, 0.7]]]);
      expectClose(await values(() => variationRatio(s)), [1 / 3], tol);
      s.dispose();
    });

    it('mean object confidence: mean of the max over valid instances; empty samples get emptyValue', async () => {
      const probs = () => tf.tensor3d([
        [[0.9, 0.1], [0.6, 0.4], [0.5, 0.5]],
        [[0.2, 0.8], [0.3, 0.7], [0.99, 0.01]],
        [[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]],
      ]);
      const mask = () => tf.tensor2d([[1, 1, 0], [1, 0, 1], [0, 0, 0]]);
      expectClose(await values(() => meanObjectConfidence(probs(), mask())), [0.75, (0.8 + 0.99) / 2, 0], tol);
      const withNaN = await values(() => meanObjectConfidence(probs(), mask(), { emptyValue: Number.NaN }));
      expect(withNaN[2]).toBeNaN();
      expect(() => meanObjectConfidence(tf.tensor3d([[[1, 0]]]), tf.tensor2d([[1, 1]]))).toThrow(
        /mask must have shape \[1, 1\] to match probs, got \[1, 2\]/,
      );
    });
  });

  describe('against the float64 reference', () => {
    const rng = new Rng(2024);
    const probs = randomProbs(rng, 64, 10);
    const logits = randomLogits(rng, 32, 7, 4);

    it.each(Object.keys(ROW_MEASURES) as (keyof typeof ROW_MEASURES)[])('%s on 64 x 10 probabilities', async (name) => {
      const got = await values(() => ROW_MEASURES[name](tf.tensor2d(probs)));
      expectClose(got, probs.map(ROW_REFS[name]), tol);
    });

    it.each(Object.keys(ROW_MEASURES) as (keyof typeof ROW_MEASURES)[])('%s from logits equals the same measure of softmax', async (name) => {
      const got = await values(() => ROW_MEASURES[name](tf.tensor2d(logits), { fromLogits: true }));
      expectClose(got, logits.map((z) => ROW_REFS[name](ref.softmaxRef(z))), tol);
    });

    it('entropy from extreme logits is finite and correct (stable log-softmax)', async () => {
      const z = [[1000, 0, -1000], [-1e4, -1e4, -1e4], [50, 50, -50]];
      const got = await values(() => entropy(tf.tensor2d(z), { fromLogits: true }));
      for (const v of got) expect(Number.isFinite(v)).toBe(true);
      expectClose(got, z.map((r) => ref.entropyRef(ref.softmaxRef(r))), tol);
    });

    it.each(Object.keys(MC_MEASURES) as (keyof typeof MC_MEASURES)[])('%s on 8 x 40 x 10 MC samples (probs and logits)', async (name) => {
      const passes = Array.from({ length: 8 }, () => randomProbs(rng, 40, 10));
      const got = await values(() => MC_MEASURES[name](tf.tensor3d(passes)));
      expectClose(got, passes[0]!.map((_, n) => MC_REFS[name](passes, n)), tol);
      const zs = Array.from({ length: 8 }, () => randomLogits(rng, 20, 5, 2));
      const fromZ = await values(() => MC_MEASURES[name](tf.tensor3d(zs), { fromLogits: true }));
      const ps = zs.map((pass) => pass.map(ref.softmaxRef));
      expectClose(fromZ, ps[0]!.map((_, n) => MC_REFS[name](ps, n)), tol);
    });
  });

  describe('properties (fast-check)', () => {
    const runs = { numRuns: isGpuBackend(backend) ? 5 : 60, seed: 42 };

    it('0 <= H <= log C', async () => {
      await fc.assert(
        fc.asyncProperty(probMatrix(), async (p) => {
          const c = p[0]!.length;
          for (const h of await values(() => entropy(tf.tensor2d(p)))) {
            expect(h).toBeGreaterThanOrEqual(-tol);
            expect(h).toBeLessThanOrEqual(Math.log(c) + tol);
          }
        }),
        runs,
      );
    });

    it('permuting classes changes no measure', async () => {
      const arb = probMatrix().chain((p) => fc.tuple(fc.constant(p), permutation(p[0]!.length)));
      await fc.assert(
        fc.asyncProperty(arb, async ([p, perm]) => {
          const q = p.map((row) => perm.map((j) => row[j]!));
          for (const f of Object.values(ROW_MEASURES)) {
            expectClose(await values(() => f(tf.tensor2d(q))), await values(() => f(tf.tensor2d(p))), tol);
          }
        }),
        runs,
      );
      const mcArb = mcSamples().chain((s) => fc.tuple(fc.constant(s), permutation(s[0]![0]!.length)));
      await fc.assert(
        fc.asyncProperty(mcArb, async ([s, perm]) => {
          const q = s.map((pass) => pass.map((row) => perm.map((j) => row[j]!)));
          for (const [name, f] of Object.entries(MC_MEASURES)) {
            if (name === 'variationRatio') continue; // argmax ties break by index: checked below on tie-free rows
            expectClose(await values(() => f(tf.tensor3d(q))), await values(() => f(tf.tensor3d(s))), tol);
          }
        }),
        runs,
      );
    });

    it('variation ratio is invariant to class permutation when no pass has a tied argmax', async () => {
      const rng = new Rng(77);
      const s = Array.from({ length: 7 }, () => randomProbs(rng, 30, 6)).map((pass) =>
        pass.map((row) => (row.filter((v) => v === Math.max(...row)).length > 1 ? [1, 0, 0, 0, 0, 0] : row)),
      );
      const perm = [3, 5, 0, 1, 4, 2];
      const q = s.map((pass) => pass.map((row) => perm.map((j) => row[j]!)));
      expect(await values(() => variationRatio(tf.tensor3d(q)))).toEqual(await values(() => variationRatio(tf.tensor3d(s))));
    });

    it('with C = 2, entropy, margin, least confidence, ratio and variance rank identically', async () => {
      const names = ['entropy', 'margin', 'leastConfidence', 'ratio', 'variance'] as const;
      await fc.assert(
        fc.asyncProperty(probMatrix({ c: 2, maxN: 16 }), async (p) => {
          const probs = tf.tensor2d(p);
          const inf: number[][] = [];
          for (const name of names) {
            inf.push(await values(() => STRATEGIES[name].score({ n: p.length, probs, rng: new Rng(1) })));
          }
          probs.dispose();
          const pmax = p.map((r) => Math.max(...r));
          for (let i = 0; i < p.length; i++) {
            for (let j = 0; j < p.length; j++) {
              if (pmax[i]! < pmax[j]! - 1e-3) {
                // row i is less confident: every strategy must rank it strictly before j
                for (let m = 0; m < names.length; m++) {
                  if (!(inf[m]![i]! > inf[m]![j]!)) {
                    expect.fail(`${names[m]} ranks row ${j} (pmax ${pmax[j]}) before row ${i} (pmax ${pmax[i]})`);
                  }
                }
              }
            }
          }
        }),
        runs,
      );
    });

    it('0 <= BALD <= predictive entropy', async () => {
      await fc.assert(
        fc.asyncProperty(mcSamples(), async (s) => {
          const b = await values(() => bald(tf.tensor3d(s)));
          const pe = await values(() => predictiveEntropy(tf.tensor3d(s)));
          b.forEach((v, i) => {
            expect(v).toBeGreaterThanOrEqual(0);
            expect(v).toBeLessThanOrEqual(pe[i]! + tol);
          });
        }),
        runs,
      );
    });
  });

  describe('tensor ownership', () => {
    const makers: Record<string, (rows: tf.Tensor2D, mc: tf.Tensor3D) => tf.Tensor> = {
      entropy: (p) => entropy(p),
      entropyBits: (p) => entropy(p, { base: 2 }),
      entropyLogits: (p) => entropy(p, { fromLogits: true }),
      margin: (p) => margin(p),
      marginLogits: (p) => margin(p, { fromLogits: true }),
      leastConfidence: (p) => leastConfidence(p),
      ratio: (p) => ratio(p),
      ratioLogits: (p) => ratio(p, { fromLogits: true }),
      variance: (p) => variance(p),
      predictiveEntropy: (_, s) => predictiveEntropy(s),
      bald: (_, s) => bald(s),
      baldLogits: (_, s) => bald(s, { fromLogits: true }),
      variationRatio: (_, s) => variationRatio(s),
      meanStd: (_, s) => meanStd(s),
      meanObjectConfidence: (_, s) => {
        const objects = tf.transpose(s, [1, 0, 2]); // [T, N, C] read as [N = 20 samples, M = 3 instances, C]
        const mask = tf.ones([20, 3]);
        const out = meanObjectConfidence(objects, mask);
        objects.dispose();
        mask.dispose();
        return out;
      },
    };
    it.each(Object.keys(makers))('%s returns one new [N] tensor and leaks nothing', async (name) => {
      const p = tf.tensor2d(randomProbs(new Rng(3), 20, 4));
      const s = tf.tensor3d(Array.from({ length: 3 }, () => randomProbs(new Rng(4), 20, 4)));
      const make = makers[name]!;
      make(p, s).dispose(); // warm up (kernel caches)
      const before = tf.memory().numTensors;
      const out = make(p, s);
      expect(out.shape).toEqual([20]);
      expect(tf.memory().numTensors).toBe(before + 1);
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
      p.dispose();
      s.dispose();
    });
  });

  describe('shape errors', () => {
    it('rejects wrong rank, too few classes and non-float dtype with a named error', () => {
      const v = tf.tensor1d([0.5, 0.5]);
      const one = tf.tensor2d([[1], [1]]);
      const ints = tf.tensor2d([[1, 0]], undefined, 'int32');
      const m = tf.tensor2d([[0.5, 0.5]]);
      expect(() => entropy(v)).toThrow(InvalidProbabilitiesError);
      expect(() => entropy(v)).toThrow('entropy: expected a rank-2 tensor [N, C], got shape [2]');
      expect(() => margin(one)).toThrow('margin: needs at least 2 classes on the last axis, got shape [2, 1]');
      expect(() => ratio(one)).toThrow(/ratio: needs at least 2 classes/);
      expect(() => leastConfidence(ints)).toThrow('leastConfidence: expected dtype float32, got int32');
      expect(() => bald(m)).toThrow('bald: expected a rank-3 tensor [T, N, C], got shape [1, 2]');
      expect(() => entropy(m, { base: 1 })).toThrow(/base must be a positive finite number other than 1, got 1/);
      [v, one, ints, m].forEach((t) => t.dispose());
    });
  });
});
