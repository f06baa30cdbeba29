/**
 * Examples added to the labeled set that are not dataset rows (a digit drawn on the page's pad),
 * given with an oracle's answer: trained on from their round on, counted and recorded in the round
 * (`RoundRecord.added`), carried by the results checks, and rebuilt on resume so that a resumed run
 * equals an uninterrupted one. The tfjs learner trains on an added example exactly as on the row
 * it copies.
 */
import * as tf from '@tensorflow/tfjs';
import { mockLearner } from '../support/mock-learner.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../datasets/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { decodePixels, encodePixels } from '../../src/engine/added.ts';
import { ExperimentError, resolveConfig, runExperiment, tfLearner, type LearnerFactory } from '../../src/engine/index.ts';
import { OracleError, type AddedExample, type Oracle, type OracleQuery } from '../../src/engine/oracle.ts';
import { ResultsFileError, validateResults } from '../../src/engine/results-file.ts';
import { asDatasetRows } from '../../src/engine/rows.ts';
import { stream } from '../../src/engine/streams.ts';

const C = 10; // as MNIST, which the config names, so the results pass its checks
const D = 28 * 28;

/** A tiny stand-in for MNIST: n rows of 28x28 uint8 pixels, row i filled with i. */
function digits(n = 40): Dataset<string> {
  return {
    name: 'mnist', shape: [28, 28, 1], numClasses: C, classNames: Array.from({ length: C }, (_, c) => String(c)), kind: 'image',
    train: { x: Uint8Array.from({ length: n * D }, (_, k) => Math.floor(k / D)), y: Uint8Array.from({ length: n }, (_, i) => i % C), n },
    test: { x: new Uint8Array(4 * D), y: new Uint8Array(4), n: 4 },
  };
}

/** One fit: the rows (row -> label) and the added examples (label, first pixel) it trained on. */
interface Fit {
  rows: Map<number, number>;
  added: [number, number][];
}

function recordingLearner(fits: Fit[]): LearnerFactory {
  return ({ dataset: ds }) => {
    const probs = (idx: Int32Array) => tf.tidy(() => tf.softmax(tf.tensor2d(Array.from(idx, (i) => Array.from({ length: C }, (_, c) => Math.sin(i * (c + 1)))), [idx.length, C])) as tf.Tensor2D);
    return mockLearner({
      probs, numClasses: C,
      fit: async (labeled, ctx) => {
        fits.push({ rows: new Map(Array.from(labeled, (i) => [i, ds.train.y[i]!])), added: (ctx.added ?? []).map((e) => [e.label, e.pixels[0]!]) });
      },
      predictOn: (x) => tf.tidy(() => tf.softmax(tf.zeros([x.shape[0]!, C])) as tf.Tensor2D),
    });
  };
}

const config = resolveConfig({ dataset: 'mnist', model: 'logreg', strategies: ['entropy'], initial: 10, query: 3, rounds: 3, testSubset: null, poolSubset: null });

/** A drawn digit: every pixel `ink`. */
const drawn = (label: number, ink: number): AddedExample => ({ label, pixels: new Uint8Array(D).fill(ink) });

/** Labels with the dataset's labels; round 1 adds a drawn 7 (ink 200), round 2 a drawn 3 and a drawn 5. */
const script = (ds: Dataset<string>) => async (q: OracleQuery) => ({
  labels: Array.from(q.indices, (i) => ds.train.y[i]!),
  added: q.round === 1 ? [drawn(7, 200)] : q.round === 2 ? [drawn(3, 201), drawn(5, 202)] : [],
});

beforeAll(async () => {
  await useBackend('cpu');
});

describe('examples added with an answer', () => {
  it('are trained on from their round on, counted, and recorded; the results checks keep them', async () => {
    const ds = digits();
    const fits: Fit[] = [];
    const res = await runExperiment(config, ds, { learner: recordingLearner(fits), oracle: script(ds) });
    const rounds = res.runs[0]!.rounds;
    expect(fits.map((f) => f.added)).toEqual([[], [[7, 200]], [[7, 200], [3, 201], [5, 202]], [[7, 200], [3, 201], [5, 202]]]);
    expect(rounds.map((r) => r.labeled)).toEqual([10, 14, 19, 22]);
    expect(rounds.map((r) => r.added?.map((e) => e.label))).toEqual([undefined, [7], [3, 5], undefined]);
    expect(decodePixels(rounds[1]!.added![0]!.pixels)).toEqual(new Uint8Array(D).fill(200));
    // The class counts count them: round 0 has one of each class, round 1 adds its query and a 7.
    const queried7 = rounds[1]!.selected.filter((i) => ds.train.y[i] === 7).length;
    expect(rounds[1]!.classCounts[7]).toBe(1 + queried7 + 1);
    expect(rounds.every((r) => r.classCounts.reduce((a, b) => a + b, 0) === r.labeled)).toBe(true);
    const checked = validateResults(JSON.parse(JSON.stringify(res)));
    expect(checked.runs[0]!.rounds.map((r) => r.added)).toEqual(rounds.map((r) => r.added));
  });

  it('are rebuilt on resume: the resumed run trains and records as the uninterrupted one', async () => {
    const ds = digits();
    const whole = await runExperiment(config, ds, { learner: recordingLearner([]), oracle: script(ds) });
    const failing: Oracle = async (q) => {
      if (q.round === 3) throw new Error('the page was reloaded');
      return script(ds)(q);
    };
    const err = (await runExperiment(config, ds, { learner: recordingLearner([]), oracle: failing }).catch((e: unknown) => e)) as ExperimentError;
    expect(err).toBeInstanceOf(ExperimentError);
    const stored = validateResults(JSON.parse(JSON.stringify(err.results)));
    const fits: Fit[] = [];
    const resumed = await runExperiment(config, ds, { learner: recordingLearner(fits), oracle: script(ds), resume: stored });
    // The rebuild of round 2's model trains on the three drawn digits, as round 2 did.
    expect(fits[0]!.added).toEqual([[7, 200], [3, 201], [5, 202]]);
    const strip = (r: typeof whole) => r.runs[0]!.rounds.map((x) => [x.round, x.labeled, x.selected, x.labels, x.classCounts, x.added]);
    expect(strip(resumed)).toEqual(strip(whole));
  });

  it('that are bad fail the run with a message saying which, keeping the completed rounds', async () => {
    const ds = digits();
    const cases: [string, AddedExample[], RegExp][] = [
      ['a label out of range', [drawn(10, 1)], /added example 0 \(entropy, repeat 0, round 2\) has the label 10: a class 0 to 9/],
      ['pixels of the wrong size', [drawn(1, 1), { label: 1, pixels: new Uint8Array(10) }], /added example 1 \(entropy, repeat 0, round 2\) has 10 pixels: 784 uint8 values/],
    ];
    for (const [, added, message] of cases) {
      const oracle: Oracle = async (q) => ({ labels: Array.from(q.indices, (i) => ds.train.y[i]!), added: q.round === 2 ? added : [] });
      const e = (await runExperiment(config, ds, { learner: recordingLearner([]), oracle }).catch((x: unknown) => x)) as ExperimentError;
      expect(e).toBeInstanceOf(ExperimentError);
      expect(e.cause).toBeInstanceOf(OracleError);
      expect(e.message).toMatch(message);
      expect(e.results.runs[0]!.rounds.map((r) => r.round)).toEqual([0, 1]);
    }
    // A dataset that is not uint8 images takes none.
    const points: Dataset<string> = { ...ds, kind: 'tabular', shape: [D], train: { ...ds.train, x: Float32Array.from(ds.train.x) } };
    const oracle: Oracle = async (q) => ({ labels: Array.from(q.indices, () => 0), added: [drawn(1, 1)] });
    await expect(runExperiment(config, points, { learner: recordingLearner([]), oracle })).rejects.toThrow(/only image datasets of uint8 pixels take added examples/);
  });
});

describe('a strategy that reads the labeled set', () => {
  it("gets the added examples' embeddings after the rows' (core-set)", async () => {
    const ds = digits();
    const calls: [number, number][] = [];
    const base = recordingLearner([]);
    const learner: LearnerFactory = (ctx) => {
      const l = base(ctx);
      return {
        ...l,
        embed: (idx, added) => {
          calls.push([idx.length, added?.length ?? 0]);
          return l.embed(asDatasetRows(Int32Array.from([...idx, ...(added ?? []).map((_, j) => 1000 + j)])));
        },
      };
    };
    await runExperiment(resolveConfig({ ...config, strategies: ['coreset'] }), ds, { learner, oracle: script(ds) });
    // Per round 1..3: the candidates' embeddings, then the labeled set's (10, then 10 + 3 rows and 1 drawn, ...).
    const labeledCalls = calls.filter((_, k) => k % 2 === 1);
    expect(labeledCalls).toEqual([[10, 0], [13, 1], [16, 3]]);
  });
});

describe('the results checks of added examples', () => {
  it('refuse a bad entry with its path', async () => {
    const ds = digits();
    const res = JSON.parse(JSON.stringify(await runExperiment(config, ds, { learner: recordingLearner([]), oracle: script(ds) })));
    const refuse = (edit: (r: { added: { label: unknown; pixels: unknown }[]; labeled: number; classCounts: number[] }) => void, message: RegExp) => {
      const copy = JSON.parse(JSON.stringify(res));
      edit(copy.runs[0].rounds[2]);
      expect(() => validateResults(copy)).toThrow(ResultsFileError);
      expect(() => validateResults(copy)).toThrow(message);
    };
    refuse((r) => { r.added[1]!.label = 10; }, /^results\.runs\[0\]\.rounds\[2\]\.added\[1\]\.label = 10 is not allowed: a class from 0 to 9/);
    refuse((r) => { r.added[0]!.pixels = encodePixels(new Uint8Array(783)); }, /^results\.runs\[0\]\.rounds\[2\]\.added\[0\]\.pixels = .* is not allowed: the base64 of 784 uint8 values \(one 28x28x1 example\)/);
    refuse((r) => { r.added[0]!.pixels = '!!!!'; }, /rounds\[2\]\.added\[0\]\.pixels = '!!!!' is not allowed: the base64 of 784/);
    refuse((r) => { delete (r.added[0] as Partial<{ label: unknown }>).label; }, /rounds\[2\]\.added\[0\]\.label is missing: a class from 0 to 9/);
    // Dropping an entry leaves the labeled count one too high.
    refuse((r) => { r.added.pop(); }, /rounds\[2\]\.labeled = 19 is not allowed: 18: the number of indices selected and not skipped so far in this run, plus the examples added/);
    refuse((r) => { (r as { added: unknown }).added = 'a 3'; }, /rounds\[2\]\.added = 'a 3' is not allowed: an array of added examples/);
    const round0 = JSON.parse(JSON.stringify(res));
    round0.runs[0].rounds[0].added = round0.runs[0].rounds[2].added;
    expect(() => validateResults(round0)).toThrow(/rounds\[0\]\.added = an array of 2 is not allowed: absent in round 0/);
  });
});

describe('the tfjs learner', () => {
  it('trains on an added example exactly as on the dataset row it copies', async () => {
    const ds = digits(12);
    const factory = tfLearner({ model: 'logreg', epochs: 2, batchSize: 4, learningRate: null, warmStart: false, chunkSize: 64 });
    const probe = asDatasetRows(Int32Array.from({ length: 12 }, (_, i) => i));
    // Row 11 (its pixels and label) added, after rows 0..9: the same training set, position for position.
    const row11: AddedExample = { label: ds.train.y[11]!, pixels: ds.train.x.slice(11 * D, 12 * D) as Uint8Array };
    const probsAfter = async (rows: number[], added: AddedExample[]) => {
      const learner = factory({ dataset: ds, testIndices: Int32Array.of(0), strategy: 'entropy', repeat: 0 });
      try {
        await learner.fit(asDatasetRows(Int32Array.from(rows)), { rng: stream(1, 'fit'), ...(added.length ? { added } : {}) });
        const p = learner.predictProbs(probe);
        // The labeled set's embeddings (core-set) take the added examples after the rows.
        const first10 = asDatasetRows(Int32Array.from({ length: 10 }, (_, i) => i));
        const e = [learner.embed(asDatasetRows(Int32Array.from([...first10, 11]))), learner.embed(first10, [row11])];
        try {
          expect(e[1]!.shape).toEqual(e[0]!.shape);
          expect(Array.from(await e[1]!.data())).toEqual(Array.from(await e[0]!.data()));
          return Array.from(await p.data());
        } finally {
          tf.dispose([p, ...e]);
        }
      } finally {
        learner.dispose();
      }
    };
    const before = tf.memory().numTensors;
    const withRow = await probsAfter([...Array.from({ length: 10 }, (_, i) => i), 11], []);
    const withAdded = await probsAfter(Array.from({ length: 10 }, (_, i) => i), [row11]);
    const without = await probsAfter(Array.from({ length: 10 }, (_, i) => i), []);
    expect(withAdded).toEqual(withRow);
    expect(withAdded).not.toEqual(without);
    expect(tf.memory().numTensors).toBe(before);
  });
});
