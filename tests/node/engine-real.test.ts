/** The loop with real tfjs models on wasm: it learns, and it does not leak across rounds. */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDataset } from '../../datasets/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig, runExperiment, tfLearner, type LearnerFactory } from '../../src/engine/index.ts';

beforeAll(async () => {
  await useBackend('wasm');
  expect(tf.getBackend()).toBe('wasm');
});

describe('runExperiment on classification with logreg (wasm)', () => {
  it('learns: final test accuracy well above chance (0.5) for every strategy', async () => {
    const config = resolveConfig({
      dataset: 'classification', model: 'logreg', strategies: ['entropy', 'random'], initial: 10, query: 10, rounds: 6,
      epochs: 40, batchSize: 16, learningRate: 0.05, testSubset: null, poolSubset: null, seed: 3,
    });
    const ds = await loadDataset('classification', { seed: config.seed });
    const res = await runExperiment(config, ds);
    expect(res.status).toBe('complete');
    for (const s of res.summary) {
      expect(s.finalAccuracy!.mean).toBeGreaterThan(0.7);
      expect(s.alc).toBeGreaterThan(0.6);
    }
    // Round 0 is the same model on the same initial set for every strategy.
    expect(res.runs[0]!.rounds[0]!.accuracy).toBe(res.runs[1]!.rounds[0]!.accuracy);
  });

  it('holds the tensor count flat: equal after round 2 and after round 10', async () => {
    const config = resolveConfig({
      dataset: 'classification', model: 'mlp', strategies: ['bald'], initial: 10, query: 5, rounds: 10,
      epochs: 2, batchSize: 16, mcSamples: 3, testSubset: null, poolSubset: null,
    });
    const ds = await loadDataset('classification', { seed: 1 });
    const counts = new Map<number, number>();
    const before = tf.memory().numTensors;
    await runExperiment(config, ds, { onEvent: (e) => { if (e.type === 'round') counts.set(e.record.round, tf.memory().numTensors); } });
    expect(counts.get(2)).toBeDefined();
    expect(counts.get(10)).toBe(counts.get(2));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('calibrate: fits a temperature on the validation rows every round, never raising validation NLL, and reports ECE', async () => {
    const config = resolveConfig({
      dataset: 'classification', model: 'mlp', strategies: ['entropy', 'bald'], initial: 20, query: 10, rounds: 3,
      epochs: 30, batchSize: 16, validation: 60, calibrate: true, mcSamples: 4, testSubset: null, poolSubset: null, seed: 2,
    });
    const ds = await loadDataset('classification', { seed: 2 });
    // The real learner, watched: the rows it calibrates on (its logits in the evaluate phase) are
    // the held-out rows; the rows it trains on, the labeled ones.
    const watch = new Map<string, { heldOut: number[][]; trained: Set<number> }>();
    let phase = '';
    const real = tfLearner({ model: config.model, epochs: config.epochs, batchSize: config.batchSize, learningRate: config.learningRate, warmStart: config.warmStart, chunkSize: config.chunkSize });
    const learner: LearnerFactory = (ctx) => {
      const l = real(ctx);
      const w = { heldOut: [] as number[][], trained: new Set<number>() };
      watch.set(`${ctx.strategy}#${ctx.repeat}`, w);
      return {
        ...l,
        fit: (labeled, fitCtx) => (labeled.forEach((i) => w.trained.add(i)), l.fit(labeled, fitCtx)),
        predictLogits: (idx) => {
          if (phase === 'evaluate') w.heldOut.push(Array.from(idx));
          return l.predictLogits(idx);
        },
      };
    };
    const before = tf.memory().numTensors;
    const res = await runExperiment(config, ds, { learner, onEvent: (e) => { if (e.type === 'phase') phase = e.phase; } });
    expect(tf.memory().numTensors).toBe(before);
    for (const r of res.runs.flatMap((run) => run.rounds)) {
      expect(r.ece).toBeGreaterThanOrEqual(0);
      expect(r.ece).toBeLessThanOrEqual(1);
      expect(r.calibration).not.toBeNull();
      expect(r.calibration!.temperature).toBeGreaterThan(0);
      expect(r.calibration!.validationNll.after).toBeLessThanOrEqual(r.calibration!.validationNll.before + 1e-6);
      expect(r.calibration!.ece).toBeGreaterThanOrEqual(0);
    }
    // Validation rows are never queried, nor trained on: the held-out rows and the queried rows are disjoint.
    for (const run of res.runs) {
      const queried = new Set(run.rounds.flatMap((r) => r.selected));
      expect(queried.size).toBe(20 + 3 * 10);
      const { heldOut, trained } = watch.get(`${run.strategy}#${run.repeat}`)!;
      expect(heldOut).toHaveLength(run.rounds.length); // calibrated once per round, on the same 60 rows
      for (const rows of heldOut) expect(rows).toEqual(heldOut[0]);
      expect(new Set(heldOut[0]).size).toBe(60);
      expect(heldOut[0]!.filter((i) => queried.has(i))).toEqual([]);
      expect(heldOut[0]!.filter((i) => trained.has(i))).toEqual([]);
    }
  });

  it('pauses between training epochs, not only between phases', async () => {
    const config = resolveConfig({
      dataset: 'classification', model: 'logreg', strategies: ['entropy'], initial: 10, query: 5, rounds: 0,
      epochs: 5, batchSize: 16, testSubset: null, poolSubset: null,
    });
    const ds = await loadDataset('classification', { seed: 1 });
    const log: string[] = [];
    let pauses = 0;
    await runExperiment(config, ds, {
      onEvent: (e) => { if (e.type === 'epoch') log.push(`epoch ${e.epoch}`); },
      waitIfPaused: async () => { pauses++; log.push('pause check'); },
    });
    // One check per phase boundary (train, evaluate) plus one after every epoch.
    expect(pauses).toBe(2 + 5);
    expect(log.slice(1, 5)).toEqual(['epoch 0', 'pause check', 'epoch 1', 'pause check']);
  });

  it("epoch events carry the epoch's training loss and accuracy (the Model panel's line chart)", async () => {
    const config = resolveConfig({
      dataset: 'classification', model: 'logreg', strategies: ['entropy'], initial: 10, query: 5, rounds: 0,
      epochs: 30, batchSize: 16, learningRate: 0.05, testSubset: null, poolSubset: null, seed: 4,
    });
    const ds = await loadDataset('classification', { seed: 1 });
    const epochs: { epoch: number; loss: number; acc: number }[] = [];
    await runExperiment(config, ds, { onEvent: (e) => { if (e.type === 'epoch') epochs.push({ epoch: e.epoch, loss: e.loss, acc: e.acc }); } });
    expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    // 10 labels in one batch of 16 (filler rows repeat them): the accuracy counts 16 rows.
    for (const e of epochs) {
      expect(Number.isInteger(e.acc * 16) && e.acc >= 0 && e.acc <= 1, String(e.acc)).toBe(true);
      expect(e.loss).toBeGreaterThan(0);
    }
    expect(epochs.at(-1)!.loss).toBeLessThan(epochs[0]!.loss);
    expect(epochs.at(-1)!.acc).toBeGreaterThanOrEqual(epochs[0]!.acc);
  });
});
