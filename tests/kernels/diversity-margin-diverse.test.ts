import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { acquire, marginDiverseSelect, marginDiverseStrategy, SelectionError, STRATEGIES } from '../../src/index.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend, TEST_BACKENDS } from '../support/backends.ts';

/** Two-class probabilities with margin p(1) - p(2) = m. */
const withMargin = (m: number) => [(1 + m) / 2, (1 - m) / 2];

/**
 * Four blobs far apart (A, B, C, D), three near-duplicates each (centre - o, centre, centre + o),
 * ordered by margin: A's rows are the three most uncertain, then B's, C's, D's. Then ten
 * confident rows at a fifth place E. Rows are listed blob by blob; `blob[i]` names row i's blob.
 */
function nearDuplicates() {
  const centres = [[0, 0, 0], [20, 0, 0], [0, 20, 0], [0, 0, 20]];
  const o = [0.3, -0.2, 0.1];
  const x: number[][] = [], probs: number[][] = [], blob: number[] = [], middle: number[] = [];
  centres.forEach((c, b) => {
    [-1, 0, 1].forEach((s, j) => {
      if (s === 0) middle.push(x.length);
      x.push(c.map((v, t) => v + s * o[t]!));
      probs.push(withMargin(0.01 * (3 * b + j + 1)));
      blob.push(b);
    });
  });
  for (let i = 0; i < 10; i++) {
    x.push([50 + i, 50, 50]);
    probs.push(withMargin(0.9));
    blob.push(4);
  }
  return { x, probs, blob, middle };
}

describe.each(TEST_BACKENDS)('marginDiverse on %s', (backend) => {
  onBackend(backend);

  it('never asks two near-duplicates when diverse uncertain rows exist; the centre of each group, most uncertain first', async () => {
    const { x, probs, blob, middle } = nearDuplicates();
    const e = tf.tensor2d(x), p = tf.tensor2d(probs);
    // Top-4 by margin alone asks three copies of A and one of B.
    expect(Array.from((await acquire(STRATEGIES.margin, { n: x.length, probs: p, rng: new Rng(1) }, 4)).indices, (i) => blob[i])).toEqual([0, 0, 0, 1]);
    const s = marginDiverseStrategy({ beta: 3 });
    for (const seed of [1, 2, 3]) {
      const { indices } = await acquire(s, { n: x.length, probs: p, embeddings: e, rng: new Rng(seed) }, 4);
      expect(Array.from(indices)).toEqual(middle); // one per blob A-D (never E: outside the 12-row shortlist)
    }
    e.dispose();
    p.dispose();
  });

  it('the default beta = 10 shortlists 10k rows; beta = 1 is plain top-k by margin', async () => {
    const { x, probs, blob } = nearDuplicates();
    const e = tf.tensor2d(x), p = tf.tensor2d(probs);
    // k = 2, beta 10: the 20-row shortlist holds every blob, including E; two far-apart picks.
    const ten = await acquire(STRATEGIES.marginDiverse, { n: x.length, probs: p, embeddings: e, rng: new Rng(1) }, 2);
    expect(new Set(Array.from(ten.indices, (i) => blob[i])).size).toBe(2);
    const one = await acquire(marginDiverseStrategy({ beta: 1 }), { n: x.length, probs: p, embeddings: e, rng: new Rng(1) }, 4);
    expect(Array.from(one.indices)).toEqual([0, 1, 2, 3]);
    expect(STRATEGIES.marginDiverse.formula).toContain('10k');
    e.dispose();
    p.dispose();
  });

  it('without embeddings the probabilities are the feature space', async () => {
    // Rows 0-2 share one probability vector's neighbourhood, rows 3-5 another, all uncertain; rows 6-9 confident.
    const probs = [[0.4, 0.35, 0.25], [0.4, 0.34, 0.26], [0.41, 0.35, 0.24], [0.25, 0.35, 0.4], [0.26, 0.34, 0.4], [0.24, 0.35, 0.41],
      [0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.01, 0.01, 0.98], [0.97, 0.02, 0.01]];
    const p = tf.tensor2d(probs);
    const { indices } = await acquire(marginDiverseStrategy({ beta: 3 }), { n: 10, probs: p, rng: new Rng(1) }, 2);
    const groups = Array.from(indices, (i) => (i < 3 ? 'a' : i < 6 ? 'b' : 'confident'));
    expect(new Set(groups)).toEqual(new Set(['a', 'b']));
    expect(Array.from(await marginDiverseSelect(p, p, 2, { beta: 3, rng: new Rng(1) }))).toEqual(Array.from(indices));
    p.dispose();
  });

  it('honours exclusion, is deterministic per seed, and returns every open row when k exceeds them', async () => {
    const rng = new Rng(4);
    const n = 60;
    const probs = Array.from({ length: n }, () => withMargin(Math.fround(rng.next())));
    const x = Array.from({ length: n }, () => [rng.normal(), rng.normal()]);
    const p = tf.tensor2d(probs), e = tf.tensor2d(x);
    const run = async (seed: number, k: number, exclude?: number[]) =>
      Array.from((await acquire(STRATEGIES.marginDiverse, { n, probs: p, embeddings: e, rng: new Rng(seed) }, k, exclude ? { exclude } : {})).indices);
    const a = await run(1, 5);
    expect(await run(1, 5)).toEqual(a);
    expect(new Set(a).size).toBe(5);
    // most uncertain first
    const m = a.map((i) => probs[i]![0]! - probs[i]![1]!);
    expect([...m].sort((u, v) => u - v)).toEqual(m);
    const ex = await run(1, 5, a);
    expect(ex.some((i) => a.includes(i))).toBe(false);
    const all = await run(1, 100, [0, 1, 2]);
    expect(all.length).toBe(n - 3);
    expect(new Set(all).size).toBe(n - 3);
    e.dispose();
    p.dispose();
  });

  it('rejects a bad beta and a missing probs input', async () => {
    const p = tf.tensor2d([withMargin(0.1), withMargin(0.2)]);
    await expect(marginDiverseSelect(p, p, 1, { beta: 0.5, rng: new Rng(1) })).rejects.toThrow(SelectionError);
    await expect(acquire(STRATEGIES.marginDiverse, { n: 2, embeddings: p, rng: new Rng(1) }, 1)).rejects.toThrow(
      "strategy 'marginDiverse' needs 'probs' but the loop did not provide it",
    );
    expect(STRATEGIES.marginDiverse.needs).toEqual(['probs', 'embeddings']);
    p.dispose();
  });

  it('leaks nothing', async () => {
    const { x, probs } = nearDuplicates();
    const e = tf.tensor2d(x), p = tf.tensor2d(probs);
    const inp = { n: x.length, probs: p, embeddings: e, rng: new Rng(1) };
    await acquire(STRATEGIES.marginDiverse, inp, 3); // warm up
    const before = tf.memory().numTensors;
    await acquire(STRATEGIES.marginDiverse, inp, 3);
    await acquire(STRATEGIES.marginDiverse, inp, 30);
    await marginDiverseSelect(p, p, 2, { rng: new Rng(1) });
    expect(tf.memory().numTensors).toBe(before);
    e.dispose();
    p.dispose();
  });
});
