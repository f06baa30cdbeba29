/**
 * Fuzzing the acquisition layer's public entry points: random probability-like matrices with
 * NaN, Infinity, negatives, rows off their sum and empty shapes either pass validation and then
 * give finite measures and valid selections, or fail with a named error; never a crash, and never
 * a NaN that reaches a selection.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  acquire, InvalidProbabilitiesError, SelectionError, STRATEGIES, STRATEGY_NAMES, validateProbabilities, type StrategyName,
} from '../../src/index.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend, TEST_BACKENDS, isGpuBackend } from '../support/backends.ts';

const weird = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(Number.NaN, Infinity, -Infinity, -0.5, 1.5, 0, 1, -0) },
);

/** [n, c] with n >= 0, c >= 0; rows are normalised unless `raw` says leave them as drawn. */
const matrix = fc
  .record({ n: fc.integer({ min: 0, max: 8 }), c: fc.integer({ min: 0, max: 6 }), normalise: fc.boolean() })
  .chain(({ n, c, normalise }) =>
    fc.array(fc.array(weird, { minLength: c, maxLength: c }), { minLength: n, maxLength: n }).map((rows) => ({
      n, c,
      rows: normalise
        ? rows.map((r) => {
            const s = r.reduce((a, b) => a + b, 0);
            return s > 0 && Number.isFinite(s) ? r.map((v) => v / s) : r;
          })
        : rows,
    })),
  );

const SINGLE_PASS = STRATEGY_NAMES.filter((s) => (STRATEGIES[s].needs as readonly string[]).every((n) => n === 'probs'));

describe.each(TEST_BACKENDS)('fuzzing on %s', (backend) => {
  onBackend(backend);
  const runs = { numRuns: isGpuBackend(backend) ? 20 : 150, seed: 1234 };

  it('validate, then score and select: a named error or a valid, NaN-free selection', async () => {
    await fc.assert(
      fc.asyncProperty(matrix, fc.integer({ min: 1, max: 10 }), fc.constantFrom(...SINGLE_PASS), async ({ n, c, rows }, k, name) => {
        const before = tf.memory().numTensors;
        const probs = tf.tensor2d(rows.flat(), [n, c]);
        try {
          let valid = true;
          try {
            await validateProbabilities(probs);
          } catch (e) {
            expect(e).toBeInstanceOf(InvalidProbabilitiesError);
            expect((e as Error).message).toMatch(/^probs: /);
            valid = false;
          }
          if (!valid || n === 0) return;
          const r = await acquire(STRATEGIES[name as StrategyName], { n, probs: probs as tf.Tensor2D, rng: new Rng(1) }, k);
          expect(r.indices.length).toBe(Math.min(k, n));
          expect(new Set(r.indices).size).toBe(r.indices.length);
          for (const i of r.indices) {
            expect(i).toBeGreaterThanOrEqual(0);
            expect(i).toBeLessThan(n);
            expect(Number.isNaN(r.scores![i]!)).toBe(false);
          }
        } finally {
          probs.dispose();
        }
        expect(tf.memory().numTensors).toBe(before);
      }),
      runs,
    );
  });

  it('acquire on unvalidated garbage never returns a NaN-scored row and never crashes', async () => {
    await fc.assert(
      fc.asyncProperty(matrix, fc.integer({ min: -2, max: 10 }), fc.constantFrom(...SINGLE_PASS), async ({ n, c, rows }, k, name) => {
        const probs = tf.tensor2d(rows.flat(), [n, c]);
        try {
          const r = await acquire(STRATEGIES[name as StrategyName], { n, probs: probs as tf.Tensor2D, rng: new Rng(1) }, k);
          for (const i of r.indices) expect(Number.isNaN(r.scores![i]!)).toBe(false);
        } catch (e) {
          // Only named errors: bad k, or a shape the measure refuses (rank, too few classes).
          expect(e instanceof SelectionError || e instanceof InvalidProbabilitiesError).toBe(true);
        } finally {
          probs.dispose();
        }
      }),
      runs,
    );
  });
});
