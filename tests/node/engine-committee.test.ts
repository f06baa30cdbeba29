/**
 * The loop with the committee, BatchBALD and stochastic batches wired in: members trained one
 * after another from their own streams (mock learner, counting live learners), and a small real
 * run on wasm that is reproducible and leaks nothing.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset, type Dataset } from '../../datasets/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig, runExperiment, type Learner, type LearnerFactory } from '../../src/engine/index.ts';

const C = 3;
const N = 40;

function tinyDataset(): Dataset<string> {
  return {
    name: 'tiny', shape: [1], numClasses: C, classNames: ['a', 'b', 'c'], kind: 'tabular',
    train: { x: Float32Array.from({ length: N }, (_, i) => i), y: Uint8Array.from({ length: N }, (_, i) => i % C), n: N },
    test: { x: new Float32Array(6), y: new Uint8Array(6), n: 6 },
  };
}

interface Census { alive: number; maxAlive: number; fits: { seed: number; labeled: number }[] }

/**
 * A learner whose probabilities depend on the first number of its training stream, so members
 * trained from different streams disagree; it counts the learners alive (built, not disposed).
 */
function countingLearner(census: Census): LearnerFactory {
  return () => {
    census.alive++;
    census.maxAlive = Math.max(census.maxAlive, census.alive);
    let seed = 0;
    const probs = (idx: Int32Array) => tf.tidy(() => tf.softmax(tf.tensor2d(Array.from(idx, (i) => [Math.sin(i * seed), Math.cos(i + seed), 0]), [idx.length, C])) as tf.Tensor2D);
    const learner: Learner = {
      fit: async (labeled, ctx) => {
        seed = ctx.rng.next() * 10;
        census.fits.push({ seed, labeled: labeled.length });
      },
      predictProbs: probs,
      predictLogits: (idx) => tf.tidy(() => tf.log(probs(idx)) as tf.Tensor2D),
      predictMcLogits: (idx, t) => tf.tidy(() => tf.log(tf.stack(Array.from({ length: t }, () => probs(idx)))) as tf.Tensor3D), // log p: softmax gives p back
      embed: (idx) => tf.tensor2d(Array.from(idx, (i) => [i]), [idx.length, 1]),
      inputs: (idx) => tf.tensor2d(Array.from(idx, (i) => [i]), [idx.length, 1]),
      predictOn: (x) => tf.tidy(() => tf.softmax(tf.concat([x, x, x], 1)) as tf.Tensor2D),
      evaluate: async () => ({ accuracy: 0.5, loss: 1, n: 6, numClasses: C, confusion: new Int32Array(C * C), ece: 0, calibratedEce: null }),
      dispose: () => { census.alive--; },
    };
    return learner;
  };
}

describe('query by committee in the loop (mock learner)', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('trains committee - 1 extra members per query, one at a time, each from its own stream, on the labeled set; reproducible; no leaks', async () => {
    const config = resolveConfig({
      dataset: 'classification', model: 'logreg', strategies: ['voteEntropy', 'entropy'], committee: 4, initial: 6, query: 3, rounds: 3,
      testSubset: null, poolSubset: null, seed: 11,
    });
    const run = async () => {
      const census: Census = { alive: 0, maxAlive: 0, fits: [] };
      const res = await runExperiment(config, tinyDataset(), { learner: countingLearner(census) });
      return { census, res };
    };
    const before = tf.memory().numTensors;
    const a = await run();
    expect(tf.memory().numTensors).toBe(before);
    // voteEntropy: 4 trainings of the run's model + 3 rounds x 3 members; entropy: 4 trainings.
    expect(a.census.fits).toHaveLength(4 + 3 * 3 + 4);
    expect(a.census.maxAlive).toBe(2); // the run's model and one member
    expect(a.census.alive).toBe(0);
    const members = a.census.fits.slice(0, 13).filter((_, i) => ![0, 4, 8, 12].includes(i)); // round r: main fit (r), then the next query's 3 members
    expect(new Set(members.map((f) => f.seed)).size).toBe(members.length); // distinct streams
    // Round 1's members train on the initial set, round 2's on 9 labels, round 3's on 12.
    expect(members.map((f) => f.labeled)).toEqual([6, 6, 6, 9, 9, 9, 12, 12, 12]);
    const b = await run();
    expect(b.res.runs.map((r) => r.rounds.map((x) => x.selected))).toEqual(a.res.runs.map((r) => r.rounds.map((x) => x.selected)));
  });

  it('a committee strategy scores with the members: a committee of identical members never disagrees (every vote entropy 0)', async () => {
    // Members that ignore their stream agree: voteEntropy is 0 everywhere, so the selection is the lowest rows.
    const same: LearnerFactory = (ctx) => {
      const l = countingLearner({ alive: 0, maxAlive: 0, fits: [] })(ctx);
      return { ...l, fit: async () => undefined, predictProbs: (idx) => tf.tidy(() => tf.softmax(tf.tensor2d(Array.from(idx, (i) => [i % 2, 0, 1]), [idx.length, C])) as tf.Tensor2D) };
    };
    const config = resolveConfig({ dataset: 'classification', model: 'logreg', strategies: ['voteEntropy'], committee: 3, initial: 6, query: 3, rounds: 1, testSubset: null, poolSubset: null });
    const res = await runExperiment(config, tinyDataset(), { learner: same });
    expect(res.runs[0]!.rounds[1]!.selectedScores).toEqual([0, 0, 0]);
  });
});

describe('committee, BatchBALD and stochastic batches with real models (wasm)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('runs, reproduces its selections, and holds the tensor count flat', async () => {
    const config = resolveConfig({
      dataset: 'classification', model: 'mlp', strategies: ['consensusEntropy', 'batchBald', 'bald'], committee: 2, stochastic: 'power', stochasticBeta: 1,
      initial: 10, query: 4, rounds: 2, epochs: 2, batchSize: 16, mcSamples: 3, testSubset: 100, poolSubset: 60, seed: 4,
    });
    const ds = await loadDataset('classification', { seed: 1 });
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    const a = await runExperiment(config, ds, { onEvent: (e) => { if (e.type === 'round' && e.record.round > 0) counts.push(tf.memory().numTensors); } });
    expect(tf.memory().numTensors).toBe(before);
    expect(new Set(counts).size).toBe(1);
    expect(a.status).toBe('complete');
    const b = await runExperiment(config, ds);
    const picks = (r: typeof a) => r.runs.map((x) => x.rounds.map((y) => y.selected));
    expect(picks(b)).toEqual(picks(a));
    for (const run of a.runs) for (const r of run.rounds.slice(1)) expect(new Set(r.selected).size).toBe(4);
  });
});
