import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { acquire, greedyKCenter, SelectionError, STRATEGIES, type AcquisitionInputs } from '../../src/index.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend, TEST_BACKENDS } from '../support/backends.ts';

const sq = (a: number[], b: number[]) => a.reduce((s, v, t) => s + (v - b[t]!) ** 2, 0);

/**
 * Brute-force greedy k-center in float64 (Sener & Savarese 2018, Alg. 1), sharing no code with
 * src/: every step scans every open candidate against every centre. Returns the picks, the
 * radius after them, and the smallest relative gap between the best and the runner-up at any
 * step (so a test can check the instance is well-posed for float32).
 */
function kCenterRef(x: number[][], labeled: number[][], k: number, exclude = new Set<number>(), first?: number) {
  const centres = labeled.map((r) => r);
  const picks: number[] = [];
  let minGap = Infinity;
  const open = () => x.map((_, i) => i).filter((i) => !exclude.has(i) && !picks.includes(i));
  const dist = (i: number) => Math.min(Infinity, ...centres.map((c) => sq(x[i]!, c)));
  if (first !== undefined) { picks.push(first); centres.push(x[first]!); }
  while (picks.length < k && open().length > 0) {
    const scored = open().map((i) => [dist(i), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    if (scored.length > 1) minGap = Math.min(minGap, (scored[0]![0] - scored[1]![0]) / scored[0]![0]);
    picks.push(scored[0]![1]);
    centres.push(x[scored[0]![1]]!);
  }
  const radius = Math.sqrt(Math.max(...x.map((_, i) => i).filter((i) => !exclude.has(i)).map(dist)));
  return { picks, radius, minGap };
}

function randomRows(rng: Rng, n: number, d: number, scale = 1): number[][] {
  return Array.from({ length: n }, () => Array.from({ length: d }, () => Math.fround(rng.normal() * scale)));
}

describe.each(TEST_BACKENDS)('coreset on %s', (backend) => {
  onBackend(backend);

  it.each([1, 2, 3])('matches brute-force greedy k-center: same picks, same radius (seed %i)', async (seed) => {
    const rng = new Rng(seed);
    const x = randomRows(rng, 40, 6);
    const labeled = randomRows(rng, 7, 6);
    const ref = kCenterRef(x, labeled, 8);
    expect(ref.minGap).toBeGreaterThan(1e-3); // well-posed in float32
    const xt = tf.tensor2d(x), lt = tf.tensor2d(labeled);
    const r = await greedyKCenter(xt, lt, 8, { rng: new Rng(1) });
    expect(Array.from(r.indices)).toEqual(ref.picks);
    expect(r.radius).toBeCloseTo(ref.radius, 3);
    // The strategy gives the same picks.
    const inp: AcquisitionInputs = { n: 40, embeddings: xt, labeledEmbeddings: lt, rng: new Rng(1) };
    expect(Array.from((await acquire(STRATEGIES.coreset, inp, 8)).indices)).toEqual(ref.picks);
    xt.dispose();
    lt.dispose();
  });

  it('tiled distances (small row and column chunks) give the same picks', async () => {
    const rng = new Rng(12);
    const x = randomRows(rng, 30, 4);
    const labeled = randomRows(rng, 11, 4);
    const ref = kCenterRef(x, labeled, 6);
    expect(ref.minGap).toBeGreaterThan(1e-3);
    const xt = tf.tensor2d(x), lt = tf.tensor2d(labeled);
    const r = await greedyKCenter(xt, lt, 6, { rng: new Rng(1), chunkSize: 7, colChunk: 3 });
    expect(Array.from(r.indices)).toEqual(ref.picks);
    expect(r.radius).toBeCloseTo(ref.radius, 3);
    xt.dispose();
    lt.dispose();
  });

  it('honours exclusion: excluded rows are never picked and not counted in the radius', async () => {
    const rng = new Rng(5);
    const x = randomRows(rng, 25, 3);
    const labeled = randomRows(rng, 4, 3);
    const exclude = [0, 3, 4, 10, 11, 20];
    const ref = kCenterRef(x, labeled, 5, new Set(exclude));
    expect(ref.minGap).toBeGreaterThan(1e-3);
    const xt = tf.tensor2d(x), lt = tf.tensor2d(labeled);
    const { indices } = await acquire(STRATEGIES.coreset, { n: 25, embeddings: xt, labeledEmbeddings: lt, rng: new Rng(1) }, 5, { exclude });
    expect(Array.from(indices)).toEqual(ref.picks);
    const r = await greedyKCenter(xt, lt, 5, { rng: new Rng(1), exclude: Uint8Array.from(x, (_, i) => (exclude.includes(i) ? 1 : 0)) });
    expect(r.radius).toBeCloseTo(ref.radius, 3);
    xt.dispose();
    lt.dispose();
  });

  it('a far outlier is asked first; then the batch spreads out', async () => {
    // Labeled near the origin; candidates: a tight cluster at the origin, one at (10, 0), and an outlier at (0, 50).
    const x = [[0.1, 0], [0, 0.1], [10, 0], [10.1, 0], [0, 50], [0.05, 0.05]];
    const xt = tf.tensor2d(x), lt = tf.tensor2d([[0, 0]]);
    const { indices } = await acquire(STRATEGIES.coreset, { n: 6, embeddings: xt, labeledEmbeddings: lt, rng: new Rng(1) }, 2);
    expect(Array.from(indices)).toEqual([4, 3]);
    xt.dispose();
    lt.dispose();
  });

  it('with nothing labeled ([0, D]), the first pick is a seeded draw and the rest follow greedily', async () => {
    const rng = new Rng(8);
    const x = randomRows(rng, 20, 3);
    const xt = tf.tensor2d(x), lt = tf.zeros([0, 3]) as tf.Tensor2D;
    const run = async (seed: number) => Array.from((await acquire(STRATEGIES.coreset, { n: 20, embeddings: xt, labeledEmbeddings: lt, rng: new Rng(seed) }, 4)).indices);
    const a = await run(3);
    expect(await run(3)).toEqual(a);
    const ref = kCenterRef(x, [], 4, new Set(), a[0]);
    expect(ref.minGap).toBeGreaterThan(1e-3);
    expect(a).toEqual(ref.picks);
    expect(a[0]).toBe(new Rng(3).int(20)); // documented: uniform draw among the open rows
    const firsts = new Set(await Promise.all([4, 5, 6, 7, 8].map(async (s) => (await run(s))[0])));
    expect(firsts.size).toBeGreaterThan(1);
    xt.dispose();
    lt.dispose();
  });

  it('k larger than the candidates returns every open row once', async () => {
    const xt = tf.tensor2d([[0, 0], [1, 0], [0, 2], [3, 3]]), lt = tf.tensor2d([[0, 0]]);
    const inp = { n: 4, embeddings: xt, labeledEmbeddings: lt, rng: new Rng(1) };
    const { indices } = await acquire(STRATEGIES.coreset, inp, 10);
    expect(Array.from(indices)).toEqual([3, 2, 1, 0]); // farthest first; the row on the labeled point last
    expect(Array.from((await acquire(STRATEGIES.coreset, inp, 10, { exclude: [3] })).indices)).toEqual([2, 1, 0]);
    const r = await greedyKCenter(xt, lt, 10, { rng: new Rng(1) });
    expect(r.radius).toBe(0);
    xt.dispose();
    lt.dispose();
  });

  it('says what is missing or mismatched', async () => {
    const xt = tf.tensor2d([[0, 0], [1, 1]]), l3 = tf.tensor2d([[0, 0, 0]]);
    await expect(acquire(STRATEGIES.coreset, { n: 2, embeddings: xt, rng: new Rng(1) }, 1)).rejects.toThrow(
      "strategy 'coreset' needs 'labeledEmbeddings' but the loop did not provide it",
    );
    await expect(acquire(STRATEGIES.coreset, { n: 2, labeledEmbeddings: l3, rng: new Rng(1) }, 1)).rejects.toThrow(
      "strategy 'coreset' needs 'embeddings'",
    );
    await expect(acquire(STRATEGIES.coreset, { n: 2, embeddings: xt, labeledEmbeddings: l3, rng: new Rng(1) }, 1)).rejects.toThrow(SelectionError);
    await expect(acquire(STRATEGIES.coreset, { n: 3, embeddings: xt, labeledEmbeddings: xt, rng: new Rng(1) }, 1)).rejects.toThrow('has 2 rows, expected 3');
    expect(STRATEGIES.coreset.needs).toEqual(['embeddings', 'labeledEmbeddings']);
    xt.dispose();
    l3.dispose();
  });

  it('reads back one number per pick and never blocks', async () => {
    const rng = new Rng(4);
    const xt = tf.tensor2d(randomRows(rng, 50, 4)), lt = tf.tensor2d(randomRows(rng, 6, 4));
    await greedyKCenter(xt, lt, 5, { rng: new Rng(1) }); // warm up
    const data = vi.spyOn(tf.Tensor.prototype, 'data');
    const sync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
    await greedyKCenter(xt, lt, 5, { rng: new Rng(1) });
    expect(data.mock.contexts.map((t) => (t as tf.Tensor).size)).toEqual([1, 1, 1, 1, 1, 1]); // 5 picks + the radius
    expect(sync).not.toHaveBeenCalled();
    vi.restoreAllMocks();
    tf.dispose([xt, lt]);
  });

  it('greedyKCenter and the strategy leak nothing', async () => {
    const rng = new Rng(2);
    const xt = tf.tensor2d(randomRows(rng, 15, 3)), lt = tf.tensor2d(randomRows(rng, 5, 3)), l0 = tf.zeros([0, 3]) as tf.Tensor2D;
    const inp = { n: 15, embeddings: xt, labeledEmbeddings: lt, rng: new Rng(1) };
    await acquire(STRATEGIES.coreset, inp, 3); // warm up
    await greedyKCenter(xt, l0, 3, { rng: new Rng(1), chunkSize: 4, colChunk: 2 });
    const before = tf.memory().numTensors;
    await acquire(STRATEGIES.coreset, inp, 3);
    await greedyKCenter(xt, lt, 3, { rng: new Rng(1), chunkSize: 4, colChunk: 2 });
    await greedyKCenter(xt, l0, 3, { rng: new Rng(1), chunkSize: 4, colChunk: 2 });
    await greedyKCenter(xt, null, 3, { rng: new Rng(1) });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xt, lt, l0]);
  });
});
