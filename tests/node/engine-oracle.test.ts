/**
 * The oracle as a part of the loop (engine/oracle.ts): a scripted oracle's labels are the ones
 * trained on and recorded, a skipped row leaves the pool for good, bad answers fail the run with
 * the completed rounds kept, and the noisy simulated oracle errs at its configured rate.
 */
import * as tf from '@tensorflow/tfjs';
import { mockLearner } from '../support/mock-learner.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../datasets/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { ConfigError, ExperimentError, resolveConfig, runExperiment, type LearnerFactory } from '../../src/engine/index.ts';
import { noisyOracle, OracleError, type Oracle, type OracleQuery } from '../../src/engine/oracle.ts';
import { validateResults } from '../../src/engine/results-file.ts';

const C = 2; // as the 'classification' dataset the config names, so the results pass its checks

function dataset(n = 40): Dataset<string> {
  return {
    name: 'tiny', shape: [1], numClasses: C, classNames: ['a', 'b'], kind: 'tabular',
    train: { x: Float32Array.from({ length: n }, (_, i) => i), y: Uint8Array.from({ length: n }, (_, i) => i % C), n },
    test: { x: new Float32Array(4), y: new Uint8Array(4), n: 4 },
  };
}

/** What the learner was trained on, fit by fit: row -> the label it saw for it. */
type Trained = Map<number, number>[];

/** A learner whose probabilities depend on the row only; it records the labels of each fit. */
function recordingLearner(trained: Trained): LearnerFactory {
  return ({ dataset: ds }) => {
    const probs = (idx: Int32Array) => tf.tidy(() => tf.softmax(tf.tensor2d(Array.from(idx, (i) => [Math.sin(i), Math.cos(i)]), [idx.length, C])) as tf.Tensor2D);
    return mockLearner({
      probs, numClasses: C,
      fit: async (labeled) => { trained.push(new Map(Array.from(labeled, (i) => [i, ds.train.y[i]!]))); },
    });
  };
}

const config = resolveConfig({ dataset: 'classification', model: 'mlp', strategies: ['entropy'], initial: 6, query: 3, rounds: 3, testSubset: null, poolSubset: null });

beforeAll(async () => {
  await useBackend('cpu');
});

describe('a scripted oracle', () => {
  it('gives the labels that are trained on and recorded, a wrong one included, and skips rows for good', async () => {
    const ds = dataset();
    const asked: OracleQuery[] = [];
    // Round 1: the first row gets a deliberately wrong label; round 2: the second row is skipped.
    const oracle: Oracle = async (q) => {
      asked.push({ ...q, indices: Int32Array.from(q.indices) });
      return Array.from(q.indices, (i, j) => (q.round === 1 && j === 0 ? (ds.train.y[i]! + 1) % C : q.round === 2 && j === 1 ? -1 : ds.train.y[i]!));
    };
    const trained: Trained = [];
    const res = await runExperiment(config, ds, { learner: recordingLearner(trained), oracle });
    const run = res.runs[0]!;
    expect(run.oracle).toBe('human');
    expect(asked.map((q) => [q.strategy, q.repeat, q.round])).toEqual([['entropy', 0, 1], ['entropy', 0, 2], ['entropy', 0, 3]]);

    const wrongRow = asked[0]!.indices[0]!;
    const wrongLabel = (ds.train.y[wrongRow]! + 1) % C;
    const r1 = run.rounds[1]!;
    expect(r1.selected[0]).toBe(wrongRow);
    expect(r1.labels![0]).toBe(wrongLabel);
    expect(r1.agreed).toEqual([false, true, true]);
    // Trained on the oracle's label in round 1 and every round after it.
    for (const fit of trained.slice(1)) expect(fit.get(wrongRow)).toBe(wrongLabel);
    expect(trained[0]!.has(wrongRow)).toBe(false);

    const skippedRow = asked[1]!.indices[1]!;
    const r2 = run.rounds[2]!;
    expect(r2.labels![1]).toBe(-1);
    expect(r2.agreed![1]).toBeNull();
    expect(r2.labeled).toBe(r1.labeled + 2);
    for (const fit of trained) expect(fit.has(skippedRow)).toBe(false); // never trained on
    expect(asked[2]!.indices).not.toContain(skippedRow); // never asked again
    expect(run.rounds[3]!.labeled).toBe(r2.labeled + 3);
    // The class counts count the labels given, not the dataset's.
    expect(r1.classCounts.reduce((a, b) => a + b, 0)).toBe(r1.labeled);
    expect(r1.classCounts[wrongLabel]).toBe(run.rounds[0]!.classCounts[wrongLabel]! + 1 + [1, 2].filter((j) => ds.train.y[r1.selected[j]!] === wrongLabel).length);

    // The results pass the results-file checks with these fields, and keep them.
    const checked = validateResults(JSON.parse(JSON.stringify(res)));
    expect(checked.runs[0]!.oracle).toBe('human');
    expect(checked.runs[0]!.rounds[2]!.labels).toEqual(r2.labels);
    expect(checked.runs[0]!.rounds[1]!.agreed).toEqual([false, true, true]);
  });

  it('records the kind the caller names, and the default oracle as simulated', async () => {
    const ds = dataset();
    const sim = await runExperiment(config, ds, { learner: recordingLearner([]) });
    expect(sim.runs[0]!.oracle).toBe('simulated');
    expect(sim.runs[0]!.rounds.every((r) => r.agreed!.every((a) => a === true))).toBe(true);
    const scripted: Oracle = async (q) => Array.from(q.indices, (i) => ds.train.y[i]!);
    const named = await runExperiment(config, ds, { learner: recordingLearner([]), oracle: scripted, oracleKind: 'simulated' });
    expect(named.runs[0]!.oracle).toBe('simulated');
    // Answers equal to the dataset's labels give the simulated run's records.
    expect(named.runs[0]!.rounds.map((r) => [r.selected, r.labels])).toEqual(sim.runs[0]!.rounds.map((r) => [r.selected, r.labels]));
  });
});

describe('resuming a run labeled by an oracle', () => {
  it("rebuilds from the labels given, not the dataset's, and goes on as an uninterrupted run", async () => {
    const ds = dataset();
    // A wrong label for the first row of every round, a skip for the second.
    const script = (q: OracleQuery) => Array.from(q.indices, (i, j) => (j === 0 ? (ds.train.y[i]! + 1) % C : j === 1 ? -1 : ds.train.y[i]!));
    const whole = await runExperiment(config, ds, { learner: recordingLearner([]), oracle: async (q) => script(q) });
    const failing: Oracle = async (q) => {
      if (q.round === 3) throw new Error('interrupted');
      return script(q);
    };
    const err = (await runExperiment(config, ds, { learner: recordingLearner([]), oracle: failing }).catch((e: unknown) => e)) as ExperimentError;
    expect(err.results.runs[0]!.rounds).toHaveLength(3);
    const stored = validateResults(JSON.parse(JSON.stringify(err.results)));
    const trained: Trained = [];
    const resumed = await runExperiment(config, ds, { learner: recordingLearner(trained), oracle: async (q) => script(q), resume: stored });
    // The rebuild (round 2's model) trained on round 1's and round 2's wrong labels, without the skipped rows.
    const rebuilt = trained[0]!;
    for (const r of stored.runs[0]!.rounds.slice(1)) {
      expect(rebuilt.get(r.selected[0]!)).toBe(r.labels![0]);
      expect(rebuilt.get(r.selected[0]!)).not.toBe(ds.train.y[r.selected[0]!]);
      expect(rebuilt.has(r.selected[1]!)).toBe(false);
    }
    const strip = (res: typeof whole) => res.runs[0]!.rounds.map((r) => [r.round, r.labeled, r.selected, r.labels, r.agreed, r.classCounts, r.stopping]);
    expect(strip(resumed)).toEqual(strip(whole));
    expect(resumed.runs[0]!.oracle).toBe('human');
  });
});

describe('bad oracle answers fail the run, keeping the completed rounds', () => {
  const cases: [string, (q: OracleQuery) => Promise<ArrayLike<number>>, RegExp][] = [
    ['too few labels', async (q) => Array.from(q.indices.slice(1), () => 0), /the oracle returned 2 labels for 3 queried rows \(entropy, repeat 0, round 2\)/],
    ['a label out of range', async (q) => Array.from(q.indices, (_, j) => (j === 2 ? 2 : 0)), /the oracle's label 2 for row \d+ \(entropy, repeat 0, round 2\) is out of range: a class 0 to 1, or -1 to skip/],
    ['a label below -1', async (q) => Array.from(q.indices, () => -2), /the oracle's label -2 for row \d+ .* is out of range/],
    ['a fractional label', async (q) => Array.from(q.indices, () => 0.5), /the oracle's label 0.5 for row \d+ .* is out of range/],
    ['a rejection', async () => { throw new Error('the annotator went home'); }, /the oracle failed \(entropy, repeat 0, round 2\): the annotator went home/],
  ];
  for (const [what, bad, message] of cases) {
    it(what, async () => {
      const oracle: Oracle = async (q) => (q.round === 2 ? bad(q) : Array.from(q.indices, () => 1));
      const err = await runExperiment(config, dataset(), { learner: recordingLearner([]), oracle }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ExperimentError);
      const e = err as ExperimentError;
      expect(e.message).toMatch(message);
      expect(e.message).toMatch(/^entropy, repeat 0: OracleError: /);
      expect(e.cause).toBeInstanceOf(OracleError);
      expect(e.results.status).toBe('failed');
      expect(e.results.runs[0]!.rounds.map((r) => r.round)).toEqual([0, 1]);
    });
  }

  it('an AbortError rejection stops the run as the signal does', async () => {
    const oracle: Oracle = async (q) => {
      if (q.round === 2) throw new DOMException('stopped', 'AbortError');
      return Array.from(q.indices, () => 1);
    };
    const res = await runExperiment(config, dataset(), { learner: recordingLearner([]), oracle });
    expect(res.status).toBe('aborted');
    expect(res.runs[0]!.rounds).toHaveLength(2);
  });
});

describe('the noisy simulated oracle', () => {
  const n = 10_000;
  const big = { numClasses: 4, train: { y: Uint8Array.from({ length: n }, (_, i) => i % 4) } };
  const query: OracleQuery = { strategy: 'entropy', repeat: 0, round: 1, indices: Int32Array.from({ length: n }, (_, i) => i) };

  it('errs on a fraction oracleNoise of 10,000 answers (within 3 standard errors), always with another class, the same for the same seed', async () => {
    for (const noise of [0.1, 0.3]) {
      const answers = Array.from(await noisyOracle(big, noise, 5)(query));
      const wrong = answers.filter((a, i) => a !== big.train.y[i]).length;
      const se = Math.sqrt((noise * (1 - noise)) / n);
      expect(Math.abs(wrong / n - noise)).toBeLessThan(3 * se);
      expect(answers.every((a) => Number.isInteger(a) && a >= 0 && a < 4)).toBe(true);
      // The wrong class is drawn uniformly among the other three (4 standard errors: three shares, two rates).
      const shifts = [0, 0, 0, 0];
      answers.forEach((a, i) => shifts[(a - big.train.y[i]! + 4) % 4]!++);
      for (const s of shifts.slice(1)) expect(Math.abs(s / wrong - 1 / 3)).toBeLessThan(4 * Math.sqrt(2 / 9 / wrong));
      expect(Array.from(await noisyOracle(big, noise, 5)(query))).toEqual(answers);
      expect(Array.from(await noisyOracle(big, noise, 6)(query))).not.toEqual(answers);
    }
  });

  it('is what a run with oracleNoise uses, recorded as noisy, with the disagreements', async () => {
    const ds = dataset(400);
    const noisy = resolveConfig({ ...config, rounds: 2, query: 50, oracleNoise: 0.4 });
    const res = await runExperiment(noisy, ds, { learner: recordingLearner([]) });
    const run = res.runs[0]!;
    expect(run.oracle).toBe('noisy');
    const given = run.rounds.slice(1).flatMap((r) => r.selected.map((i, j) => [ds.train.y[i], r.labels![j], r.agreed![j]] as const));
    expect(given.some(([, , agreed]) => !agreed)).toBe(true);
    for (const [truth, label, agreed] of given) expect(agreed).toBe(truth === label);
    expect(run.rounds[0]!.agreed!.every(Boolean)).toBe(true); // the initial set keeps the dataset's labels
    const again = await runExperiment(noisy, ds, { learner: recordingLearner([]) });
    expect(again.runs[0]!.rounds.map((r) => r.labels)).toEqual(run.rounds.map((r) => r.labels));
  });

  it('a bad oracleNoise is a ConfigError naming the field', () => {
    for (const bad of [-0.1, 1, 1.5, Number.NaN, '0.1', null]) {
      const err = (() => { try { resolveConfig({ oracleNoise: bad as number }); } catch (e) { return e; } return null; })();
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).field).toBe('oracleNoise');
      expect((err as ConfigError).message).toMatch(/^config\.oracleNoise = .* is not allowed: a number in \[0, 1\)/);
    }
  });

  it('refuses oracleNoise together with an oracle of the caller', async () => {
    await expect(runExperiment(resolveConfig({ ...config, oracleNoise: 0.1 }), dataset(), { learner: recordingLearner([]), oracle: async (q) => q.indices }))
      .rejects.toThrow(/oracleNoise \(0.1\) makes the simulated oracle noisy; with RunOptions.oracle it must be 0/);
  });
});
