/**
 * Fit at every size: the recipe DEFAULT_CONFIG's epochs and batch size with minSteps =
 * RECOMMENDED_MIN_STEPS (300) fits logreg on `classification` within 3 points of scikit-learn's LogisticRegression (lbfgs,
 * default C) on the same rows, at 20, 50 and 100 labels (tests/fixtures/fit/, made by its
 * make-fixture.py with Debian's python3-sklearn). The mean over three training seeds is compared:
 * one seed's test accuracy on 120 test rows moves in steps of 0.8 points.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../datasets/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { DEFAULT_CONFIG, RECOMMENDED_MIN_STEPS, trainingEpochs } from '../../src/engine/config.ts';
import { tfLearner } from '../../src/engine/learner.ts';
import { asDatasetRows } from '../../src/engine/rows.ts';
import { Rng } from '../../src/rng.ts';

interface FitFixture {
  seed: number;
  testRows: number;
  sets: { labels: number; indices: number[]; inputSum: number; sklearnAccuracy: number }[];
}
const FIXTURE = JSON.parse(readFileSync(new URL('../fixtures/fit/fixture.json', import.meta.url), 'utf8')) as FitFixture;

beforeAll(async () => {
  await useBackend('wasm');
});

describe('trainingEpochs', () => {
  it('max(epochs, ceil(minSteps / batches per epoch)); minSteps 0 is epochs', () => {
    expect(trainingEpochs(20, { epochs: 10, batchSize: 32, minSteps: 300 })).toBe(300); // 1 batch an epoch
    expect(trainingEpochs(70, { epochs: 10, batchSize: 32, minSteps: 300 })).toBe(100); // 3 batches
    expect(trainingEpochs(10_000, { epochs: 10, batchSize: 32, minSteps: 300 })).toBe(10); // 313 batches: epochs rule
    expect(trainingEpochs(20, { epochs: 10, batchSize: 32, minSteps: 0 })).toBe(10);
  });
});

describe('logreg on classification against scikit-learn (minSteps 300)', () => {
  it.each(FIXTURE.sets.map((s) => [s.labels, s] as const))('%i labels: test accuracy within 3 points of LogisticRegression', async (_labels, set) => {
    const ds = await loadDataset('classification', { seed: FIXTURE.seed });
    expect(ds.test.n).toBe(FIXTURE.testRows);
    const d = ds.shape.reduce((a, b) => a * b, 1);
    let sum = 0;
    for (const i of set.indices) for (let j = 0; j < d; j++) sum += ds.train.x[i * d + j]!;
    expect(sum).toBeCloseTo(set.inputSum, 3); // the same rows as the fixture's
    const test = Int32Array.from({ length: ds.test.n }, (_, i) => i);
    const { epochs, batchSize } = DEFAULT_CONFIG;
    const minSteps = RECOMMENDED_MIN_STEPS;
    const accs: number[] = [];
    for (const seed of [1, 2, 3]) {
      const learner = tfLearner({ model: 'logreg', epochs, minSteps, batchSize, learningRate: null, warmStart: false, chunkSize: 256 })({ dataset: ds, testIndices: test, strategy: 'fit', repeat: 0 });
      try {
        await learner.fit(asDatasetRows(Int32Array.from(set.indices)), { rng: new Rng(seed) });
        accs.push((await learner.evaluate()).accuracy);
      } finally {
        learner.dispose();
      }
    }
    const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
    expect(Math.abs(mean - set.sklearnAccuracy), `ours ${accs.join(', ')} vs sklearn ${set.sklearnAccuracy}`).toBeLessThanOrEqual(0.03);
  });
});
