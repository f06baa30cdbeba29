/**
 * The worker's human oracle (src/app/host/human-oracle.ts) in a real run of the loop: each batch
 * is posted as a `query` with the rows, their dataset labels and the model's top-3 guesses; the
 * page's `labels` are what the run records; the pad is answered only while a batch waits; a stop
 * while waiting ends the run as aborted, with its rounds kept.
 */
import * as tf from '@tensorflow/tfjs';
import { mockLearner } from '../support/mock-learner.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../datasets/index.ts';
import { HumanOracle } from '../../src/app/host/human-oracle.ts';
import type { FromHost, LabelQuery } from '../../src/app/protocol.ts';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig, runExperiment, type LearnerFactory } from '../../src/engine/index.ts';

const C = 2;

function dataset(n = 30): Dataset<string> {
  return {
    name: 'tiny', shape: [2], numClasses: C, classNames: ['a', 'b'], kind: 'points',
    train: { x: Float32Array.from({ length: n * 2 }, (_, i) => i / 10), y: Uint8Array.from({ length: n }, (_, i) => i % C), n },
    test: { x: new Float32Array(8), y: new Uint8Array(4), n: 4 },
  };
}

/** A learner whose probabilities depend on the row only; `disposed` counts its disposals. */
function fixedLearner(disposed: { n: number }): LearnerFactory {
  return () => {
    const probs = (idx: Int32Array) => tf.tidy(() => tf.softmax(tf.tensor2d(Array.from(idx, (i) => [Math.sin(i), Math.cos(i)]), [idx.length, C])) as tf.Tensor2D);
    return mockLearner({
      probs, numClasses: C,
      predictOn: (x) => tf.tidy(() => tf.softmax(tf.reshape(x, [-1, 2])) as tf.Tensor2D),
      dispose: () => void disposed.n++,
    });
  };
}

const config = resolveConfig({ dataset: 'classification', model: 'mlp', strategies: ['entropy'], initial: 4, query: 3, rounds: 2, testSubset: null, poolSubset: null });

beforeAll(async () => {
  await useBackend('cpu');
});

describe('HumanOracle', () => {
  it("posts each batch with its guesses and records the page's labels; the pad is answered while a batch waits", async () => {
    const ds = dataset();
    const posted: FromHost[] = [];
    const ctrl = new AbortController();
    let human!: HumanOracle;
    const queries: LabelQuery[] = [];
    const post = (msg: FromHost) => {
      posted.push(msg);
      if (msg.type !== 'query') return;
      const q = msg.query;
      queries.push(q);
      // The page: asks the pad, then answers the truth, except a wrong first label and a skipped last row.
      void human.predict(100 + q.round, Uint8Array.of(0, 255)).then(() => {
        human.answer(q.id - 1, [0, 0, 0]); // an answer to an older query is ignored
        human.answer(q.id, Array.from(q.truth!, (t, j) => (j === 0 ? 1 - t : j === 2 ? -1 : t)));
      });
    };
    human = new HumanOracle(post, ds, ctrl.signal);
    const disposed = { n: 0 };
    const results = await runExperiment(config, ds, { learner: human.wrap(fixedLearner(disposed)), oracle: human.ask, oracleKind: 'human', signal: ctrl.signal });

    expect(results.status).toBe('complete');
    const run = results.runs[0]!;
    expect(run.oracle).toBe('human');
    expect(queries.map((q) => q.round)).toEqual([1, 2]);
    for (const [i, q] of queries.entries()) {
      const r = run.rounds[i + 1]!;
      expect(Array.from(q.indices)).toEqual(r.selected);
      expect(Array.from(q.truth!)).toEqual(r.selected.map((row) => ds.train.y[row]));
      expect(Array.from(q.points!)).toEqual(r.selected.flatMap((row) => [ds.train.x[2 * row], ds.train.x[2 * row + 1]]));
      expect(q.pixels).toBeNull();
      // Top-2 of 2 classes: both classes, the likelier first.
      expect(q.top.k).toBe(2);
      for (let p = 0; p < 3; p++) expect(q.top.probs[p * 2]!).toBeGreaterThanOrEqual(q.top.probs[p * 2 + 1]!);
      expect(r.labels).toEqual(r.selected.map((row, j) => (j === 0 ? 1 - ds.train.y[row]! : j === 2 ? -1 : ds.train.y[row])));
      expect(r.agreed).toEqual([false, true, null]);
    }
    // The pad's answers: C probabilities of softmax([0, 1]).
    const digits = posted.filter((m) => m.type === 'digit');
    expect(digits.map((m) => m.id)).toEqual([101, 102]);
    for (const m of digits) expect(m.probs![1]).toBeCloseTo(Math.E / (1 + Math.E), 5);
    expect(disposed.n).toBe(1);

    // After the run: no batch waits, the pad says why it cannot answer.
    await human.predict(7, Uint8Array.of(0, 255));
    expect(posted.at(-1)).toEqual({ type: 'digit', id: 7, probs: null, error: 'the model is training: the pad answers while a batch waits for labels' });
  });

  it('a stop while a batch waits ends the run as aborted, keeping round 0', async () => {
    const ds = dataset();
    const ctrl = new AbortController();
    const human = new HumanOracle((msg) => {
      if (msg.type === 'query') setTimeout(() => ctrl.abort(), 5);
    }, ds, ctrl.signal);
    const results = await runExperiment(config, ds, { learner: human.wrap(fixedLearner({ n: 0 })), oracle: human.ask, signal: ctrl.signal });
    expect(results.status).toBe('aborted');
    expect(results.runs[0]!.rounds.map((r) => r.round)).toEqual([0]);
  });
});
