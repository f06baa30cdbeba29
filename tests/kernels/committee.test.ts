/**
 * Query-by-committee measures on every backend of this environment (Node: cpu, wasm; Chromium:
 * webgl, wasm): hand-computed values, a float64 reference, properties, leaks.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { consensusEntropy, maxDisagreement, voteEntropy } from '../../src/acquisition/committee.ts';
import { InvalidProbabilitiesError } from '../../src/acquisition/errors.ts';
import { isGpuBackend, onBackend, TEST_BACKENDS, TOLERANCE } from '../support/backends.ts';
import { probRow } from '../support/arbitraries.ts';
import { expectClose } from '../support/wasm-kernel-harness.ts';
import { consensusEntropyRef, disagreementRef, voteEntropyRef, type Committee } from '../support/committee-reference.ts';

/** Runs a tensor-producing call, reads it back, disposes it. */
async function values(make: () => tf.Tensor): Promise<number[]> {
  const t = make();
  try {
    return Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

// Three members, two rows, three classes.
const FIXED: Committee = [
  [[0.7, 0.2, 0.1], [0.4, 0.4, 0.2]], // row 1: a tie, the vote goes to class 0
  [[0.2, 0.6, 0.2], [0.3, 0.5, 0.2]],
  [[0.6, 0.3, 0.1], [0.1, 0.2, 0.7]],
];

/** An [M, N, C] committee with 1 <= M <= 5, 1 <= N <= 6, 2 <= C <= 5. */
const committees = fc
  .tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 2, max: 5 }))
  .chain(([m, n, c]) => fc.array(fc.array(probRow(c), { minLength: n, maxLength: n }), { minLength: m, maxLength: m }));

describe.each(TEST_BACKENDS)('committee measures on %s', (backend) => {
  onBackend(backend);
  const tol = TOLERANCE[backend];

  it('hand-computed values for fixed member probabilities', async () => {
    const x = () => tf.tensor3d(FIXED);
    // Votes: row 0 -> classes 0, 1, 0: shares (2/3, 1/3, 0), VE = -(2/3 ln 2/3 + 1/3 ln 1/3) = 0.6365141683;
    // row 1 -> 0 (tie), 1, 2: VE = ln 3 = 1.0986122887.
    expectClose(await values(() => voteEntropy(x())), [0.6365141683, Math.log(3)], tol);
    // Consensus: row 0 (0.5, 0.3667, 0.1333) -> 0.9831047704; row 1 (0.2667, 0.3667, 0.3667) -> 1.0882231032.
    expectClose(await values(() => consensusEntropy(x())), [0.9831047704, 1.0882231032], tol);
    // KL of members from the consensus, row 0: 0.0855352, 0.1933208, 0.0204235; row 1: 0.0757634, 0.0691852, 0.2333289.
    expectClose(await values(() => maxDisagreement(x())), [0.0997598, 0.1260925], tol * 10);
    expectClose(await values(() => maxDisagreement(x(), { reduce: 'max' })), [0.1933208, 0.2333289], tol * 10);
    // From logits (log p), the same numbers.
    const z = () => tf.log(x());
    expectClose(await values(() => consensusEntropy(z(), { fromLogits: true })), [0.9831047704, 1.0882231032], tol * 10);
    expectClose(await values(() => maxDisagreement(z(), { fromLogits: true })), [0.0997598, 0.1260925], tol * 10);
    expectClose(await values(() => voteEntropy(z())), [0.6365141683, Math.log(3)], tol);
  });

  it('equal members: everything 0; members each certain of a different class: ln M for all three', async () => {
    const same = tf.tensor3d([[[0.3, 0.7]], [[0.3, 0.7]], [[0.3, 0.7]]]);
    expectClose(await values(() => voteEntropy(same)), [0], tol);
    expectClose(await values(() => maxDisagreement(same)), [0], tol);
    const split = tf.tensor3d([[[1, 0, 0]], [[0, 1, 0]], [[0, 0, 1]]]);
    for (const f of [voteEntropy, consensusEntropy, maxDisagreement]) expectClose(await values(() => f(split)), [Math.log(3)], tol);
    const v = await values(() => maxDisagreement(split));
    expect(Number.isNaN(v[0])).toBe(false); // zeros never give 0 log 0 = NaN
    tf.dispose([same, split]);
  });

  it('match the float64 reference, with 0 <= VE <= ln min(M, C), mean KL <= CE and mean KL <= max KL (seeded property)', async () => {
    await fc.assert(
      fc.asyncProperty(committees, async (members) => {
        const x = tf.tensor3d(members);
        try {
          const n = members[0]!.length;
          const rows = Array.from({ length: n }, (_, i) => i);
          const ve = await values(() => voteEntropy(x));
          const ce = await values(() => consensusEntropy(x));
          const kl = await values(() => maxDisagreement(x));
          const klMax = await values(() => maxDisagreement(x, { reduce: 'max' }));
          expectClose(ve, rows.map((i) => voteEntropyRef(members, i)), tol);
          expectClose(ce, rows.map((i) => consensusEntropyRef(members, i)), tol);
          expectClose(kl, rows.map((i) => disagreementRef(members, i)), tol * 10);
          expectClose(klMax, rows.map((i) => disagreementRef(members, i, 'max')), tol * 10);
          const c = members[0]![0]!.length;
          rows.forEach((i) => {
            expect(ve[i]!).toBeGreaterThanOrEqual(0);
            expect(ve[i]!).toBeLessThanOrEqual(Math.log(Math.min(members.length, c)) + tol);
            expect(kl[i]!).toBeLessThanOrEqual(ce[i]! + tol);
            expect(kl[i]!).toBeLessThanOrEqual(klMax[i]! + tol);
          });
        } finally {
          x.dispose();
        }
      }),
      // Fewer cases on the GPU backends (SwiftShader here, where each new shape compiles new
      // shaders): the formulas are checked on 40 cases on cpu and wasm; these check the shaders.
      { seed: 2009, numRuns: isGpuBackend(backend) ? 5 : 40 },
    );
  });

  it('a row with a non-finite value in any member scores NaN in all three', async () => {
    const bad = FIXED.map((m) => m.map((r) => [...r]));
    bad[1]![0]![2] = Number.NaN;
    bad[2]![1]![0] = Infinity;
    const x = tf.tensor3d(bad);
    for (const f of [voteEntropy, consensusEntropy, maxDisagreement]) {
      const v = await values(() => f(x));
      expect(v[0]).toBeNaN();
      expect(v[1]).toBeNaN();
    }
    x.dispose();
  });

  it('leaks nothing: each call makes exactly the one tensor the caller owns', async () => {
    const x = tf.tensor3d(FIXED);
    for (const f of [voteEntropy, consensusEntropy, maxDisagreement]) f(x).dispose(); // warm up
    const before = tf.memory().numTensors;
    for (const f of [voteEntropy, consensusEntropy, maxDisagreement, (t: tf.Tensor) => maxDisagreement(t, { reduce: 'max', fromLogits: true })]) {
      const out = f(x);
      expect(out.shape).toEqual([2]);
      expect(tf.memory().numTensors).toBe(before + 1);
      out.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
    x.dispose();
  });

  it('says what is wrong with the input', () => {
    const flat = tf.tensor2d([[0.5, 0.5]]);
    expect(() => voteEntropy(flat)).toThrow(InvalidProbabilitiesError);
    expect(() => consensusEntropy(flat)).toThrow(/rank-3 tensor \[M, N, C\], got shape \[1, 2\]/);
    const ints = tf.tensor3d([[[1, 0]]], undefined, 'int32');
    expect(() => maxDisagreement(ints)).toThrow(/float32/);
    const none = tf.zeros([0, 2, 3]);
    expect(() => maxDisagreement(none)).toThrow(/at least one member/);
    const x = tf.tensor3d(FIXED);
    expect(() => maxDisagreement(x, { reduce: 'median' as never })).toThrow(/reduce must be/);
    tf.dispose([flat, ints, none, x]);
  });
});
