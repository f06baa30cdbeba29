/**
 * Random configurations: resolveConfig either names the bad field or returns a config with which
 * the loop (here with a mock learner over a synthetic dataset) runs to a valid result.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../datasets/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { ConfigError, resolveConfig, runExperiment, type Learner, type LearnerFactory } from '../../src/engine/index.ts';
import { STRATEGY_NAMES } from '../../src/index.ts';

/** A mock learner with softmax probabilities that depend on the row index. */
const mock = (c: number): LearnerFactory => () => {
  const probs = (idx: Int32Array) => tf.tidy(() => tf.softmax(tf.tensor2d(Array.from(idx, (i) => Array.from({ length: c }, (_, j) => Math.sin(i * (j + 1)))), [idx.length, c])) as tf.Tensor2D);
  const learner: Learner = {
    fit: async () => undefined,
    predictProbs: probs,
    predictLogits: (idx) => tf.tidy(() => tf.log(probs(idx)) as tf.Tensor2D),
    predictMcLogits: (idx, t) => tf.tidy(() => tf.log(tf.stack(Array.from({ length: t }, () => probs(idx)))) as tf.Tensor3D), // log p: softmax gives p back
    embed: (idx) => tf.tensor2d(Array.from(idx, (i) => [i, i % 3]), [idx.length, 2]),
    inputs: (idx) => tf.tensor2d(Array.from(idx, (i) => [i]), [idx.length, 1]),
    predictOn: (x) => tf.tidy(() => tf.softmax(tf.zeros([x.shape[0]!, c])) as tf.Tensor2D),
    evaluate: async () => ({ accuracy: 0.5, loss: 1, n: 1, numClasses: c, confusion: new Int32Array(c * c), ece: 0, calibratedEce: null }),
    dispose: () => undefined,
  };
  return learner;
};

/**
 * Every strategy but batchBald: its greedy picks cost O(M·T·N·C) each, M = 40,000 sampled joint
 * configurations beyond 2^16, so the fuzzer's queries of up to 400 would run for many minutes.
 * tests/node/engine-committee.test.ts runs it in the loop; tests/kernels/batch-bald.test.ts tests it.
 */
const FUZZ_STRATEGIES = STRATEGY_NAMES.filter((n) => n !== 'batchBald');

const anyValue = fc.oneof(fc.integer({ min: -5, max: 700 }), fc.double({ noNaN: false }), fc.string({ maxLength: 6 }), fc.constant(null), fc.boolean());

/** Mostly valid values, sometimes anything: so that both paths are exercised. */
const mostly = <T,>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: anyValue });

const partialConfig = fc.record(
  {
    dataset: mostly(fc.constantFrom('classification', 'moons', 'blobs')),
    model: fc.constantFrom('mlp', 'mlp', 'mlp', 'logreg', 'cnn', 'svm'),
    strategies: fc.oneof({ weight: 12, arbitrary: fc.subarray(FUZZ_STRATEGIES, { minLength: 1, maxLength: 3 }) }, { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 4 }), { maxLength: 2 }) }),
    initial: mostly(fc.integer({ min: 1, max: 60 })),
    balanced: mostly(fc.boolean()),
    query: mostly(fc.integer({ min: 1, max: 400 })),
    rounds: mostly(fc.integer({ min: 0, max: 4 })),
    validation: mostly(fc.integer({ min: 0, max: 400 })),
    poolSubset: mostly(fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 300 }))),
    target: mostly(fc.double({ min: 0.01, max: 1, noNaN: true })),
    seed: mostly(fc.integer()),
  },
  { requiredKeys: ['dataset', 'model'] },
);

beforeAll(async () => {
  await useBackend('cpu');
});

describe('random configs', () => {
  it('are rejected with a ConfigError naming a field, or run to a valid result', async () => {
    let ran = 0;
    await fc.assert(
      fc.asyncProperty(partialConfig, async (partial) => {
        let config;
        try {
          config = resolveConfig({ repeats: 1, epochs: 1, testSubset: null, ...(partial as object) });
        } catch (e) {
          expect(e).toBeInstanceOf(ConfigError);
          expect((e as Error).message).toMatch(/^config\.\w+ = .* is not allowed: /);
          return;
        }
        ran++;
        const ds = await loadDataset(config.dataset, { seed: 1 });
        const before = tf.memory().numTensors;
        // Only the run's own rejection is caught: an assertion below fails as itself.
        const outcome = await runExperiment(config, ds, { learner: mock(ds.numClasses) }).then(
          (res) => ({ res }),
          (err: unknown) => ({ err }),
        );
        if ('err' in outcome) {
          // The one failure allowed: a balanced initial set the split cannot supply, named as such.
          expect(outcome.err).toBeInstanceOf(RangeError);
          expect((outcome.err as Error).message).toMatch(/cannot draw a balanced initial set/);
        } else {
          const { res } = outcome;
          expect(res.status).toBe('complete');
          for (const run of res.runs) {
            expect(['complete', 'exhausted']).toContain(run.status);
            const seen = new Set<number>();
            for (const r of run.rounds) {
              for (const i of r.selected) {
                expect(seen.has(i)).toBe(false); // never asks twice
                seen.add(i);
              }
              expect(r.labeled).toBe(seen.size);
              if (r.selectedScores) for (const s of r.selectedScores) expect(Number.isNaN(s)).toBe(false);
            }
          }
        }
        expect(tf.memory().numTensors).toBe(before);
      }),
      { numRuns: 150, seed: 99 },
    );
    expect(ran).toBeGreaterThan(20); // the generator does reach valid configs
  });
});
