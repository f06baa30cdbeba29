import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { acquire, badgeSelect, SelectionError, STRATEGIES, type AcquisitionInputs } from '../../src/index.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend, TEST_BACKENDS } from '../support/backends.ts';

/** Explicit gradient embedding g = (p - e_argmax p) ⊗ h, float64, flattened [C * D]. */
function gradEmbedding(p: number[], h: number[]): number[] {
  let y = 0;
  p.forEach((v, j) => { if (v > p[y]!) y = j; });
  const q = p.map((v, j) => v - (j === y ? 1 : 0));
  return q.flatMap((qc) => h.map((hd) => qc * hd));
}

const sq = (a: number[], b: number[]) => a.reduce((s, v, t) => s + (v - b[t]!) ** 2, 0);

/**
 * Float64 reference of BADGE's seeding on explicit [N, C*D] gradient embeddings: the largest
 * norm first, then D^2 draws with u = rng.next() (the first index whose prefix sum exceeds
 * u * total), as the authors' code. Also returns the smallest relative distance of u * total to
 * a prefix-sum boundary, so a test can check no draw is decided by float32 rounding.
 */
function badgeRef(probs: number[][], h: number[][], k: number, rng: Rng) {
  const g = probs.map((p, i) => gradEmbedding(p, h[i]!));
  const norms = g.map((r) => sq(r, r.map(() => 0)));
  let first = 0;
  norms.forEach((v, i) => { if (v > norms[first]!) first = i; });
  const picks = [first];
  const minD = g.map((r) => sq(r, g[first]!));
  let minMargin = Infinity;
  while (picks.length < Math.min(k, g.length)) {
    const total = minD.reduce((a, b) => a + b, 0);
    const target = Math.min(rng.next(), 1 - 2 ** -24) * total;
    let cum = 0, pick = -1;
    for (let i = 0; i < minD.length; i++) {
      cum += minD[i]!;
      minMargin = Math.min(minMargin, Math.abs(cum - target) / total);
      if (pick < 0 && cum > target) pick = i;
    }
    picks.push(pick);
    g.forEach((r, i) => (minD[i] = Math.min(minD[i]!, sq(r, g[pick]!))));
  }
  return { picks, minMargin };
}

function softmaxRows(z: number[][]): number[][] {
  return z.map((r) => {
    const m = Math.max(...r);
    const e = r.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => Math.fround(v / s));
  });
}

function randomCase(seed: number, n: number, c: number, d: number) {
  const rng = new Rng(seed);
  const probs = softmaxRows(Array.from({ length: n }, () => Array.from({ length: c }, () => rng.normal() * 2)));
  const h = Array.from({ length: n }, () => Array.from({ length: d }, () => Math.fround(Math.abs(rng.normal()))));
  return { probs, h };
}

describe.each(TEST_BACKENDS)('badge on %s', (backend) => {
  onBackend(backend);

  it.each([1, 2, 3])('matches a float64 reference on explicit gradient embeddings with the same draws (seed %i)', async (seed) => {
    const { probs, h } = randomCase(seed, 30, 4, 5);
    const ref = badgeRef(probs, h, 6, new Rng(100 + seed));
    expect(ref.minMargin).toBeGreaterThan(1e-4); // no draw sits on a rounding boundary
    const p = tf.tensor2d(probs), e = tf.tensor2d(h);
    const picks = await badgeSelect(p, e, 6, { rng: new Rng(100 + seed) });
    expect(Array.from(picks)).toEqual(ref.picks);
    const { indices } = await acquire(STRATEGIES.badge, { n: 30, probs: p, embeddings: e, rng: new Rng(100 + seed) }, 6);
    expect(Array.from(indices)).toEqual(ref.picks);
    p.dispose();
    e.dispose();
  });

  it('all-confident rows vs one uncertain, far-away row: the uncertain row is asked first', async () => {
    // Rows 0-8 are confident (gradient embedding near 0); row 6 is uniform with a large embedding.
    const probs = Array.from({ length: 9 }, (_, i) => (i === 6 ? [1 / 3, 1 / 3, 1 / 3] : [0.98, 0.01, 0.01]));
    const h = Array.from({ length: 9 }, (_, i) => (i === 6 ? [30, -20, 10] : [1 + i / 10, 1, 0.5]));
    const p = tf.tensor2d(probs), e = tf.tensor2d(h);
    for (const seed of [1, 2, 3]) {
      const { indices } = await acquire(STRATEGIES.badge, { n: 9, probs: p, embeddings: e, rng: new Rng(seed) }, 3);
      expect(indices[0]).toBe(6);
      expect(new Set(indices).size).toBe(3);
    }
    p.dispose();
    e.dispose();
  });

  it('never asks two rows with the same gradient embedding while a different one is left', async () => {
    // Three groups of four identical rows (same p, same h): 3 picks must hit 3 groups.
    const group = [
      { p: [0.5, 0.3, 0.2], h: [1, 0, 2] },
      { p: [0.2, 0.7, 0.1], h: [0, 3, 1] },
      { p: [0.4, 0.4, 0.2], h: [2, 2, 0] },
    ];
    const rows = Array.from({ length: 12 }, (_, i) => group[i % 3]!);
    const p = tf.tensor2d(rows.map((r) => r.p)), e = tf.tensor2d(rows.map((r) => r.h));
    for (const seed of [1, 2, 3, 4, 5]) {
      const { indices } = await acquire(STRATEGIES.badge, { n: 12, probs: p, embeddings: e, rng: new Rng(seed) }, 3);
      expect(new Set(Array.from(indices, (i) => i % 3))).toEqual(new Set([0, 1, 2]));
      // With k = 5 the last two are uniform draws among the remaining duplicates: still distinct rows.
      const five = await acquire(STRATEGIES.badge, { n: 12, probs: p, embeddings: e, rng: new Rng(seed) }, 5);
      expect(new Set(five.indices).size).toBe(5);
    }
    p.dispose();
    e.dispose();
  });

  it('is deterministic per rng seed and honours exclusion', async () => {
    const { probs, h } = randomCase(9, 40, 3, 4);
    const p = tf.tensor2d(probs), e = tf.tensor2d(h);
    const run = async (seed: number, exclude?: number[]) =>
      Array.from((await acquire(STRATEGIES.badge, { n: 40, probs: p, embeddings: e, rng: new Rng(seed) }, 8, exclude ? { exclude } : {})).indices);
    const a = await run(4);
    expect(await run(4)).toEqual(a);
    expect((await Promise.all([5, 6, 7].map((s) => run(s)))).some((o) => o.join() !== a.join())).toBe(true);
    const ex = a.slice(0, 3);
    for (const seed of [4, 5]) {
      const b = await run(seed, ex);
      expect(b.some((i) => ex.includes(i))).toBe(false);
      expect(new Set(b).size).toBe(8);
    }
    p.dispose();
    e.dispose();
  });

  it('k larger than the candidates returns every open row once', async () => {
    const { probs, h } = randomCase(4, 6, 3, 2);
    const p = tf.tensor2d(probs), e = tf.tensor2d(h);
    const inp: AcquisitionInputs = { n: 6, probs: p, embeddings: e, rng: new Rng(1) };
    expect(new Set((await acquire(STRATEGIES.badge, inp, 50)).indices)).toEqual(new Set([0, 1, 2, 3, 4, 5]));
    expect(new Set((await acquire(STRATEGIES.badge, inp, 50, { exclude: [1, 4] })).indices)).toEqual(new Set([0, 2, 3, 5]));
    // Exactly one-hot rows have a zero gradient embedding: all coincide, the picks are still distinct.
    const oh = tf.tensor2d([[1, 0], [0, 1], [1, 0]]), h2 = tf.tensor2d([[1, 1], [2, 2], [3, 3]]);
    expect(new Set((await acquire(STRATEGIES.badge, { n: 3, probs: oh, embeddings: h2, rng: new Rng(1) }, 3)).indices).size).toBe(3);
    tf.dispose([p, e, oh, h2]);
  });

  it('says what is missing', async () => {
    expect(STRATEGIES.badge.needs).toEqual(['probs', 'embeddings']);
    const p = tf.tensor2d([[0.5, 0.5]]);
    await expect(acquire(STRATEGIES.badge, { n: 1, probs: p, rng: new Rng(1) }, 1)).rejects.toThrow(
      "strategy 'badge' needs 'embeddings' but the loop did not provide it",
    );
    const two = tf.tensor2d([[1], [2]]);
    await expect(badgeSelect(p, two, 1, { rng: new Rng(1) })).rejects.toThrow('has 2 rows, expected 1');
    await expect(badgeSelect(p, p, 0, { rng: new Rng(1) })).rejects.toThrow(SelectionError);
    p.dispose();
    two.dispose();
  });

  it('reads back one number per pick (never the [N, C*D] gradient embeddings) and never blocks', async () => {
    const { probs, h } = randomCase(6, 40, 4, 6);
    const p = tf.tensor2d(probs), e = tf.tensor2d(h);
    await badgeSelect(p, e, 5, { rng: new Rng(1) }); // warm up
    const data = vi.spyOn(tf.Tensor.prototype, 'data');
    const sync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    await badgeSelect(p, e, 5, { rng: new Rng(1) });
    expect(data.mock.contexts.map((t) => (t as tf.Tensor).size)).toEqual([1, 1, 1, 1, 1]);
    expect(sync).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    tf.dispose([p, e]);
  });

  it('badgeSelect and the strategy leak nothing', async () => {
    const { probs, h } = randomCase(2, 12, 3, 3);
    const p = tf.tensor2d(probs), e = tf.tensor2d(h);
    const inp = { n: 12, probs: p, embeddings: e, rng: new Rng(1) };
    await acquire(STRATEGIES.badge, inp, 4); // warm up
    const before = tf.memory().numTensors;
    await acquire(STRATEGIES.badge, inp, 4);
    await badgeSelect(p, e, 12, { rng: new Rng(2), chunkSize: 5 });
    expect(tf.memory().numTensors).toBe(before);
    p.dispose();
    e.dispose();
  });
});
