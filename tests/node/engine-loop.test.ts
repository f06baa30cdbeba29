/**
 * The loop driven by a mock learner with fixed probabilities: it must ask exactly what the
 * strategy says, keep what it did when stopped or failing, and end cleanly on an exhausted pool.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../datasets/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { ExperimentError, initialSet, resolveConfig, runExperiment, type ExperimentEvent, type Learner, type LearnerFactory } from '../../src/engine/index.ts';
import { Rng } from '../../src/rng.ts';
import { entropyRef, marginRef } from '../support/reference.ts';

const N = 60;
const C = 3;

/** A tiny dataset whose train rows are just their index; labels cycle through the classes. */
function tinyDataset(n = N): Dataset<string> {
  return {
    name: 'tiny', shape: [1], numClasses: C, classNames: ['a', 'b', 'c'], kind: 'tabular',
    train: { x: Float32Array.from({ length: n }, (_, i) => i), y: Uint8Array.from({ length: n }, (_, i) => i % C), n },
    test: { x: new Float32Array(10), y: new Uint8Array(10), n: 10 },
  };
}

/** Fixed probabilities per train row: varied, distinct uncertainty. */
function probTable(n = N): number[][] {
  const rng = new Rng(99);
  return Array.from({ length: n }, () => {
    const w = [rng.next() ** 3, rng.next() ** 3, rng.next() ** 3].map((v) => v + 0.01);
    const s = w.reduce((a, b) => a + b, 0);
    return Array.from(Float32Array.from(w.map((v) => v / s)));
  });
}

interface MockLog { fits: Int32Array[]; predicted: Int32Array[] }

function mockLearner(table: number[][], log: MockLog, opts: { nanAtRound?: number } = {}): LearnerFactory {
  return () => {
    let fits = 0;
    const learner: Learner = {
      fit: async (labeled) => { log.fits.push(Int32Array.from(labeled)); fits++; },
      predictProbs: (idx) => {
        log.predicted.push(Int32Array.from(idx));
        const rows = Array.from(idx, (i) => table[i]!);
        if (opts.nanAtRound !== undefined && fits === opts.nanAtRound) rows[1] = [Number.NaN, 0.5, 0.5];
        return tf.tensor2d(rows, [idx.length, C]);
      },
      predictLogits: (idx) => tf.tidy(() => tf.log(tf.tensor2d(Array.from(idx, (i) => table[i]!), [idx.length, C])) as tf.Tensor2D),
      predictMcLogits: (idx, t) =>
        // log p as the logits: softmax gives the table's probabilities back
        tf.tidy(() => tf.log(tf.stack(Array.from({ length: t }, () => tf.tensor2d(Array.from(idx, (i) => table[i]!), [idx.length, C])))) as tf.Tensor3D),
      embed: (idx) => tf.tensor2d(Array.from(idx, (i) => [i]), [idx.length, 1]),
      inputs: (idx) => tf.tensor2d(Array.from(idx, (i) => [i]), [idx.length, 1]),
      predictOn: (x) => tf.tidy(() => tf.softmax(tf.concat([x.reshape([-1, 1]), tf.zerosLike(x).reshape([-1, 1]), tf.neg(x).reshape([-1, 1])], 1)) as tf.Tensor2D),
      evaluate: async () => ({ accuracy: Math.min(1, fits / 10), loss: 1 / fits, n: 10, numClasses: C, confusion: new Int32Array(C * C), ece: 0.1, calibratedEce: null }),
      dispose: () => undefined,
    };
    return learner;
  };
}

/**
 * The paths inside `value` that hold anything but plain data (numbers, strings, booleans, null,
 * undefined, arrays, typed arrays, plain objects): a tf.Tensor is named as such.
 */
function notPlainData(value: unknown, path: string): string[] {
  if (value instanceof tf.Tensor) return [`${path}: a tf.Tensor`];
  if (value === null || ['number', 'string', 'boolean', 'undefined'].includes(typeof value)) return [];
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return [];
  if (Array.isArray(value)) return value.flatMap((v, i) => notPlainData(v, `${path}[${i}]`));
  if (typeof value === 'object' && [Object.prototype, null].includes(Object.getPrototypeOf(value))) {
    return Object.entries(value as object).flatMap(([k, v]) => notPlainData(v, `${path}.${k}`));
  }
  return [`${path}: ${typeof value === 'object' ? (value as object).constructor?.name ?? 'object' : typeof value}`];
}

// stopSet 0: these tests count the learner's predictions; the stop set's are tested in engine-stopping.test.ts.
const base = { dataset: 'classification', model: 'mlp', initial: 6, balanced: true, query: 4, rounds: 3, repeats: 1, testSubset: null, poolSubset: null, stopSet: 0 } as const;

beforeAll(async () => {
  await useBackend('cpu');
});

describe('runExperiment with a mock learner', () => {
  it('asks consistent MC-dropout passes (one ω per pass for every row) for batchBald, per-row masks for bald', async () => {
    const asked: Record<string, (boolean | undefined)[]> = { bald: [], batchBald: [] };
    for (const strategy of ['bald', 'batchBald'] as const) {
      const factory = mockLearner(probTable(), { fits: [], predicted: [] });
      const recording: LearnerFactory = (ctx) => {
        const l = factory(ctx);
        return { ...l, predictMcLogits: (idx, t, rng, mc) => { asked[strategy]!.push(mc?.consistent); return l.predictMcLogits(idx, t, rng); } };
      };
      await runExperiment(resolveConfig({ ...base, strategies: [strategy], rounds: 2, mcSamples: 3 }), tinyDataset(), { learner: recording });
    }
    expect(asked).toEqual({ bald: [false, false], batchBald: [true, true] });
  });

  it('asks exactly the top-k of the strategy among the unlabeled rows, round after round', async () => {
    const table = probTable();
    for (const [strategy, measure, higherFirst] of [['entropy', entropyRef, true], ['margin', marginRef, false]] as const) {
      const log: MockLog = { fits: [], predicted: [] };
      const config = resolveConfig({ ...base, strategies: [strategy] });
      const res = await runExperiment(config, tinyDataset(), { learner: mockLearner(table, log) });
      const rounds = res.runs[0]!.rounds;
      expect(rounds).toHaveLength(4);
      const labeled = new Set(rounds[0]!.selected);
      for (let r = 1; r <= 3; r++) {
        // Reference: score every unlabeled row with the float64 measure, sort, take 4 (ties: lower index).
        const pool = Array.from({ length: N }, (_, i) => i).filter((i) => !labeled.has(i));
        expect(Array.from(log.predicted[r - 1]!)).toEqual(pool); // predicted exactly the unlabeled pool
        const want = pool
          .map((i) => [higherFirst ? measure(table[i]!) : -measure(table[i]!), i] as const)
          .sort((a, b) => b[0] - a[0] || a[1] - b[1])
          .slice(0, 4)
          .map(([, i]) => i);
        expect(rounds[r]!.selected).toEqual(want);
        want.forEach((i) => labeled.add(i));
        expect(rounds[r]!.labeled).toBe(6 + 4 * r);
        expect(Array.from(log.fits[r]!).sort((a, b) => a - b)).toEqual([...labeled].sort((a, b) => a - b));
      }
    }
  });

  it('draws a balanced initial set, the same for every strategy of a repeat', async () => {
    const config = resolveConfig({ ...base, strategies: ['entropy', 'margin', 'random'], repeats: 2 });
    const res = await runExperiment(config, tinyDataset(), { learner: mockLearner(probTable(), { fits: [], predicted: [] }) });
    const init = (s: string, r: number) => res.runs.find((x) => x.strategy === s && x.repeat === r)!.rounds[0]!;
    expect(init('entropy', 0).selected).toEqual(init('random', 0).selected);
    expect(init('entropy', 1).selected).toEqual(init('margin', 1).selected);
    expect(init('entropy', 0).selected).not.toEqual(init('entropy', 1).selected);
    expect(init('entropy', 0).classCounts).toEqual([2, 2, 2]);
  });

  it('is reproducible: same config, same selections; another seed, other selections', async () => {
    const run = async (seed: number) => {
      const config = resolveConfig({ ...base, strategies: ['random', 'entropy'], seed, poolSubset: 20 });
      const res = await runExperiment(config, tinyDataset(), { learner: mockLearner(probTable(), { fits: [], predicted: [] }) });
      return res.runs.map((r) => r.rounds.map((x) => x.selected));
    };
    expect(await run(7)).toEqual(await run(7));
    expect(await run(7)).not.toEqual(await run(8));
  });

  it('scores only a seeded pool subset when poolSubset is set', async () => {
    const log: MockLog = { fits: [], predicted: [] };
    const config = resolveConfig({ ...base, strategies: ['entropy'], poolSubset: 15 });
    await runExperiment(config, tinyDataset(), { learner: mockLearner(probTable(), log) });
    for (const p of log.predicted) expect(p).toHaveLength(15);
    expect(Array.from(log.predicted[0]!)).not.toEqual(Array.from(log.predicted[1]!));
  });

  it('emits phases in order and plain-data round events with progress', async () => {
    const events: ExperimentEvent[] = [];
    const config = resolveConfig({ ...base, strategies: ['entropy'], rounds: 1 });
    await runExperiment(config, tinyDataset(), { learner: mockLearner(probTable(), { fits: [], predicted: [] }), onEvent: (e) => { events.push(e); } });
    const phases = events.filter((e) => e.type === 'phase').map((e) => (e as { phase: string }).phase);
    expect(phases).toEqual(['train', 'evaluate', 'predict', 'score', 'select', 'train', 'evaluate']);
    const rounds = events.filter((e) => e.type === 'round');
    expect(rounds).toHaveLength(2);
    const last = rounds[1] as Extract<ExperimentEvent, { type: 'round' }>;
    expect(last.progress).toMatchObject({ done: 2, total: 2 });
    expect(last.scores).toBeInstanceOf(Float32Array);
    expect(last.scores).toHaveLength(N - 6);
    expect(events[0]!.type).toBe('start');
    expect(events.at(-1)!.type).toBe('end');
    // Plain data, all the way down: no tensor (nor any other class instance) anywhere in an event.
    for (const e of events) expect(notPlainData(e, e.type)).toEqual([]);
  });

  it('reports the model\'s class and confidence on a grid, and the confusion counts, with every round', async () => {
    const events: Extract<ExperimentEvent, { type: 'round' }>[] = [];
    const config = resolveConfig({ ...base, strategies: ['margin'], rounds: 1 });
    await runExperiment(config, tinyDataset(), {
      learner: mockLearner(probTable(), { fits: [], predicted: [] }),
      grid: Float32Array.from([-1, 0, 2]),
      onEvent: (e) => { if (e.type === 'round') events.push(e); },
    });
    // The mock's predictOn is softmax([x, 0, -x]): x = -1 -> class 2; x = 0 -> a three-way tie, class 0; x = 2 -> class 0.
    expect(Array.from(events[0]!.grid!.predicted)).toEqual([2, 0, 0]);
    expect(events[0]!.grid!.confidence[1]).toBeCloseTo(1 / 3, 6);
    expect(events[1]!.confusion).toHaveLength(C * C);
  });

  it('stops on abort and keeps every completed round', async () => {
    const ctrl = new AbortController();
    const config = resolveConfig({ ...base, strategies: ['entropy', 'margin'], rounds: 5 });
    const res = await runExperiment(config, tinyDataset(), {
      learner: mockLearner(probTable(), { fits: [], predicted: [] }),
      signal: ctrl.signal,
      onEvent: (e) => { if (e.type === 'round' && e.record.round === 2) ctrl.abort(); },
    });
    expect(res.status).toBe('aborted');
    expect(res.runs).toHaveLength(1);
    expect(res.runs[0]!.status).toBe('aborted');
    expect(res.runs[0]!.rounds.map((r) => r.round)).toEqual([0, 1, 2]);
    expect(res.summary[0]!.strategy).toBe('entropy');
  });

  it('clamps a query larger than the pool with a warning, then ends cleanly when the pool is exhausted', async () => {
    const warnings: string[] = [];
    const config = resolveConfig({ ...base, strategies: ['margin'], initial: 6, query: 20, rounds: 5 });
    const res = await runExperiment(config, tinyDataset(30), {
      learner: mockLearner(probTable(30), { fits: [], predicted: [] }),
      onEvent: (e) => { if (e.type === 'warning') warnings.push(e.message); },
    });
    expect(warnings[0]).toBe('query size 20 is larger than the 4 rows left: querying 4');
    expect(warnings[1]).toBe('the pool is exhausted after round 2: the run ends with its results');
    expect(res.runs[0]!.status).toBe('exhausted');
    expect(res.runs[0]!.rounds.map((r) => r.labeled)).toEqual([6, 26, 30]);
    expect(res.status).toBe('complete');
  });

  it('rejects NaN predictions naming the round and row, keeping the rounds done before', async () => {
    const config = resolveConfig({ ...base, strategies: ['entropy'], rounds: 4 });
    const err = await runExperiment(config, tinyDataset(), { learner: mockLearner(probTable(), { fits: [], predicted: [] }, { nanAtRound: 3 }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExperimentError);
    expect((err as Error).message).toBe('entropy, repeat 0: InvalidProbabilitiesError: round 3 predictions: row 1: class 0 is NaN (not finite)');
    const partial = (err as ExperimentError).results;
    expect(partial.status).toBe('failed');
    expect(partial.runs[0]!.rounds.map((r) => r.round)).toEqual([0, 1, 2]);
  });

  it('leaks no tensors across rounds (mock learner)', async () => {
    const counts: number[] = [];
    const config = resolveConfig({ ...base, strategies: ['entropy', 'bald'], rounds: 6, query: 2 });
    const before = tf.memory().numTensors;
    await runExperiment(config, tinyDataset(), {
      learner: mockLearner(probTable(), { fits: [], predicted: [] }),
      onEvent: (e) => { if (e.type === 'round') counts.push(tf.memory().numTensors); },
    });
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('initialSet', () => {
  it('balances per class with the remainder to the lowest classes, and says which class is short', () => {
    const y = Uint8Array.from([0, 1, 2, 0, 1, 2, 0, 1, 2, 0]);
    const all = Int32Array.from({ length: 10 }, (_, i) => i);
    const s = initialSet(y, all, 5, 3, true, new Rng(1));
    const counts = [0, 0, 0];
    for (const i of s) counts[y[i]!]!++;
    expect(counts).toEqual([2, 2, 1]);
    expect(() => initialSet(y, all, 9, 3, true, new Rng(1))).not.toThrow();
    expect(() => initialSet(Uint8Array.from([0, 0, 0, 1]), Int32Array.from([0, 1, 2, 3]), 4, 2, true, new Rng(1))).toThrow(
      'cannot draw a balanced initial set of 4: class 1 short by 1',
    );
  });
});
