/**
 * A dataset without labels (`Dataset.unlabeled`: an image folder with no class folders, labeled in
 * "Label it yourself"): the engine never reads a truth label for its rows (here every `train.y` is
 * 255, not a class, so any read would be trained on, counted or compared and fail), the oracle
 * labels the random initial set in round 0 like any batch, no round is evaluated (accuracy, loss
 * and ECE null) while the stopping advice is still computed on the stop set, the results pass the
 * schema with a null summary accuracy, and a resumed run rebuilds round 0 from its recorded labels.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_DATASETS, describeDataset, withDataset } from '../../datasets/catalog.ts';
import type { Dataset } from '../../datasets/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { ConfigError, ExperimentError, resolveConfig, runExperiment, type ExperimentConfig, type LearnerFactory } from '../../src/engine/index.ts';
import type { Oracle, OracleQuery } from '../../src/engine/oracle.ts';
import { validateResults } from '../../src/engine/results-file.ts';
import { resultsToCsv, stopAdviceText, summarize } from '../../src/engine/results.ts';
import { mockLearner } from '../support/mock-learner.ts';

const C = 2;
const N = 30;
const catalog = withDataset(BUILTIN_DATASETS, describeDataset({
  name: 'loose', kind: 'image', shape: [2, 2, 1], classNames: ['cat', 'dog'], sizes: { train: N, test: 0 }, hash: '0123456789abcdef', unlabeled: true,
}));

function dataset(): Dataset<string> {
  return {
    name: 'loose', kind: 'image', shape: [2, 2, 1], numClasses: C, classNames: ['cat', 'dog'], unlabeled: true,
    train: { x: Uint8Array.from({ length: N * 4 }, (_, i) => (i * 37) % 256), y: new Uint8Array(N).fill(255), n: N },
    test: { x: new Uint8Array(0), y: new Uint8Array(0), n: 0 },
  };
}

/** A learner whose probabilities depend on the row; it records each fit's row -> label, and fails if evaluated. */
function learner(trained: Map<number, number>[]): LearnerFactory {
  return ({ dataset: ds }) => ({
    ...mockLearner({
      probs: (idx) => tf.tidy(() => tf.softmax(tf.tensor2d(Array.from(idx, (i) => [Math.sin(i), Math.cos(i)]), [idx.length, C])) as tf.Tensor2D),
      numClasses: C,
      fit: async (labeled) => {
        trained.push(new Map(Array.from(labeled, (i) => [i, ds.train.y[i]!])));
      },
    }),
    evaluate: () => Promise.reject(new Error('evaluated a dataset without labels')),
  });
}

/** Labels row i with (i % 2), skips row `skip` when asked about it. */
function person(asked: OracleQuery[], skip = -1): Oracle {
  return async (q) => {
    asked.push({ ...q, indices: Int32Array.from(q.indices) });
    return Array.from(q.indices, (i) => (i === skip ? -1 : i % C));
  };
}

const base: Partial<ExperimentConfig> = { dataset: 'loose', model: 'mlp', strategies: ['entropy'], initial: 4, query: 3, rounds: 2, balanced: false, testSubset: null, poolSubset: null, stopSet: 10, epochs: 1 };
const config = resolveConfig(base, { datasets: catalog });

beforeAll(async () => {
  await useBackend('cpu');
});

describe('a dataset without labels', () => {
  it('asks the oracle for the initial set in round 0, trains only on its answers, evaluates nothing, still advises', async () => {
    const asked: OracleQuery[] = [];
    const trained: Map<number, number>[] = [];
    const res = await runExperiment(config, dataset(), { learner: learner(trained), oracle: person(asked), oracleKind: 'human' });
    expect(res.status).toBe('complete');
    expect(asked.map((q) => q.round)).toEqual([0, 1, 2]);
    expect(asked[0]!.indices).toHaveLength(4);
    const run = res.runs[0]!;
    expect(run.rounds[0]!.selected).toEqual(Array.from(asked[0]!.indices));
    for (const [r, rec] of run.rounds.entries()) {
      expect(rec.labels).toEqual(rec.selected.map((i) => i % C));
      expect(rec).not.toHaveProperty('agreed');
      expect([rec.accuracy, rec.loss, rec.ece]).toEqual([null, null, null]);
      expect(rec.labeled).toBe(4 + 3 * r);
      expect(rec.classCounts.reduce((a, b) => a + b, 0)).toBe(rec.labeled);
      expect(rec.stopping?.overallUncertainty).toBeGreaterThan(0);
    }
    expect(run.rounds[0]!.stopping?.kappa).toBeNull();
    expect(run.rounds[1]!.stopping?.kappa).toEqual(expect.any(Number));
    // Every fit saw the person's labels, never the dataset's (255).
    for (const fit of trained) for (const [row, label] of fit) expect(label).toBe(row % C);
    const s = res.summary[0]!;
    expect(s.finalAccuracy).toBeNull();
    expect(s.alc).toBeNull();
    expect(s.labelsToTarget).toMatchObject({ mean: null, reached: 0 });
    expect(s.stopping?.every((x) => x.accuracyLost === null)).toBe(true);
    expect(resultsToCsv(res).split('\n')[1]).toMatch(/^entropy,0,0,4,,,,/);
    // The schema takes the nulls on this dataset (and only on it), and recomputes the same summary.
    const back = validateResults(JSON.parse(JSON.stringify(res)), { datasets: catalog });
    expect(back.runs).toEqual(res.runs);
    expect(back.summary).toEqual(summarize(res.runs, config.target));
  });

  it('refuses numbers where a dataset without labels has no test set, and nulls where one has', async () => {
    const res = await runExperiment(config, dataset(), { learner: learner([]), oracle: person([]) });
    const json = JSON.parse(JSON.stringify(res));
    json.runs[0].rounds[1].accuracy = 0.5;
    expect(() => validateResults(json, { datasets: catalog })).toThrow(/runs\[0\]\.rounds\[1\]\.accuracy.*null: a dataset without labels has no test set/);
    const summary = JSON.parse(JSON.stringify(res));
    summary.summary[0].alc = 0.5;
    expect(() => validateResults(summary, { datasets: catalog })).toThrow(/summary\[0\]\.alc = 0\.5 is not allowed: null: a dataset without labels/);
    const labeled = JSON.parse(JSON.stringify(res));
    labeled.config.dataset = 'classification';
    expect(() => validateResults(labeled)).toThrow(/accuracy/);
  });

  it('a skip in the initial set leaves the pool; skipping all of it fails the run, saying why', async () => {
    const first = dataset();
    const asked: OracleQuery[] = [];
    const probe = await runExperiment({ ...config, rounds: 0 }, first, { learner: learner([]), oracle: person(asked) });
    const skip = asked[0]!.indices[1]!;
    const res = await runExperiment(config, dataset(), { learner: learner([]), oracle: person([], skip) });
    const r0 = res.runs[0]!.rounds[0]!;
    expect(r0.labels![1]).toBe(-1);
    expect(r0.labeled).toBe(3);
    expect(res.runs[0]!.rounds.slice(1).some((r) => r.selected.includes(skip))).toBe(false);
    expect(probe.runs[0]!.rounds[0]!.selected).toEqual(r0.selected);
    const none: Oracle = async (q) => Array.from(q.indices, () => -1);
    const err = await runExperiment(config, dataset(), { learner: learner([]), oracle: none }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExperimentError);
    expect((err as ExperimentError).message).toMatch(/skipped all 4 rows of the initial set .*round 0\): the first model needs at least one label/);
  });

  it('needs an oracle, and a configuration that draws nothing from labels', async () => {
    await expect(runExperiment(config, dataset(), { learner: learner([]) })).rejects.toThrow(/loose has no labels: a run on it needs an oracle/);
    expect(() => resolveConfig({ ...base, balanced: true }, { datasets: catalog })).toThrow(ConfigError);
    expect(() => resolveConfig({ ...base, balanced: true }, { datasets: catalog })).toThrow(/config\.balanced = true .*false for loose, whose images have no labels/);
    expect(() => resolveConfig({ ...base, validation: 2 }, { datasets: catalog })).toThrow(/config\.validation = 2 .*validation rows need labels/);
    expect(() => resolveConfig({ ...base, oracleNoise: 0.1 }, { datasets: catalog })).toThrow(/config\.oracleNoise = 0\.1 .*the simulated oracle answers from labels/);
  });

  it('resumes after round 1 with round 0 rebuilt from its recorded labels: the same selections as an uninterrupted run', async () => {
    const whole = await runExperiment(config, dataset(), { learner: learner([]), oracle: person([]) });
    const asked: OracleQuery[] = [];
    const partial = { config, runs: [{ ...whole.runs[0]!, status: 'aborted' as const, rounds: whole.runs[0]!.rounds.slice(0, 2) }] };
    const resumed = await runExperiment(config, dataset(), { learner: learner([]), oracle: person(asked), resume: partial });
    expect(asked.map((q) => q.round)).toEqual([2]);
    expect(resumed.runs[0]!.rounds.map((r) => r.selected)).toEqual(whole.runs[0]!.rounds.map((r) => r.selected));
    const broken = { config, runs: [{ ...partial.runs[0]!, rounds: partial.runs[0]!.rounds.map((r, i) => (i === 0 ? (({ labels: _l, ...rest }) => rest)(r) : r)) }] };
    await expect(runExperiment(config, dataset(), { learner: learner([]), oracle: person([]), resume: broken })).rejects.toThrow(/round 0 has no labels for the 4 rows of the initial set/);
  });

  it('the stopping advice text says the labels saved, with no accuracy to give up', () => {
    expect(stopAdviceText({ criterion: 'stabilizing', reached: 1, labels: 10, saved: 6, accuracyLost: null }, 1)).toBe('10: saves 6');
  });
});
