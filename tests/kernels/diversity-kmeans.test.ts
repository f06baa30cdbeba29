import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CHUNK_ELEMENTS, passRows, pickD2, rows, sampleProportional } from '../../src/acquisition/diversity/distance.ts';
import {
  acquire, DEFAULT_CLUSTERS, kmeans, kmeansDiversityStrategy, kmeansPlusPlus, roundRobinByCluster, SelectionError, STRATEGIES,
  type AcquisitionInputs,
} from '../../src/index.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend, TEST_BACKENDS } from '../support/backends.ts';

const sq = (a: number[], b: number[]) => a.reduce((s, v, t) => s + (v - b[t]!) ** 2, 0);

/**
 * Planted blobs whose mean is exactly a row of the blob: m random offsets, then minus their sum,
 * then the centre itself (offset 0), so each blob's centroid is its centre row and the rows'
 * distances to it are distinct (checked below). Rows are shuffled so blobs interleave.
 */
function plantedBlobs(sizes: number[], d: number, seed: number, spread = 30, noise = 1) {
  const rng = new Rng(seed);
  const x: number[][] = [];
  const blob: number[] = [];
  const centres: number[][] = [];
  // Centres at least 10 noise radii apart, so every blob is far from every other.
  while (centres.length < sizes.length) {
    const c = Array.from({ length: d }, () => Math.round(rng.normal() * spread));
    if (centres.every((o) => Math.sqrt(sq(o, c)) > 10 * noise * Math.sqrt(d))) centres.push(c);
  }
  sizes.forEach((size, b) => {
    const centre = centres[b]!;
    const offs: number[][] = [];
    for (let j = 0; j < size - 2; j++) offs.push(Array.from({ length: d }, () => Math.fround(rng.normal() * noise)));
    offs.push(Array.from({ length: d }, (_, t) => Math.fround(-offs.reduce((a, o) => a + o[t]!, 0))));
    offs.push(new Array<number>(d).fill(0));
    for (const o of offs) { x.push(centre.map((c, t) => c + o[t]!)); blob.push(b); }
  });
  const perm = rng.permutation(x.length);
  return { x: Array.from(perm, (i) => x[i]!), blob: Array.from(perm, (i) => blob[i]!), centres };
}

/** Float64 reference of seed 004's order: clusters largest first, rows nearest their centre first, round-robin. */
function roundRobinRef(x: number[][], blob: number[], centres: number[][], k: number): number[] {
  const lists = centres.map((c, b) => x.map((_, i) => i).filter((i) => blob[i] === b).sort((i, j) => sq(x[i]!, c) - sq(x[j]!, c) || i - j));
  lists.sort((a, b) => b.length - a.length);
  // Well-posed: no two rows of a blob (nearly) tie for their rank, sizes distinct.
  lists.forEach((l, b) => l.slice(1).forEach((i, r) => {
    const c = centres[blob[l[0]!]!]!;
    if (sq(x[i]!, c) - sq(x[l[r]!]!, c) < 1e-3) throw new Error(`ill-posed planted blob ${b}: rows ${l[r]} and ${i} tie`);
  }));
  const out: number[] = [];
  for (let r = 0; out.length < k && r < x.length; r++) for (const l of lists) if (r < l.length && out.length < k) out.push(l[r]!);
  return out;
}

/** Same partition up to a renaming of the clusters. */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const ab = new Map<number, number>(), ba = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if ((ab.has(x) && ab.get(x) !== y) || (ba.has(y) && ba.get(y) !== x)) return false;
    ab.set(x, y);
    ba.set(y, x);
  }
  return true;
}

/**
 * Float64 Lloyd from the given seed rows with scikit-learn's stopping rule (`_kmeans_single_lloyd`):
 * stop once the total squared centroid shift sum_k ||c_k' - c_k||^2 is at most tol x the mean
 * per-feature (population) variance, i.e. `center_shift_tot <= _tolerance(X, tol)`; `rule: 'max'`
 * compares the largest single shift instead (what kmeans did before), to show the cases tell them apart.
 */
function lloydRef(x: number[][], seeds: ArrayLike<number>, tol: number, rule: 'sum' | 'max' = 'sum', maxIter = 100) {
  const n = x.length, d = x[0]!.length;
  const mean = Array.from({ length: d }, (_, t) => x.reduce((a, r) => a + r[t]!, 0) / n);
  const threshold = (tol * mean.reduce((a, m, t) => a + x.reduce((v, r) => v + (r[t]! - m) ** 2, 0) / n, 0)) / d;
  let c = Array.from(seeds, (i) => [...x[i]!]);
  for (let it = 1; it <= maxIter; it++) {
    const sums = c.map(() => new Array<number>(d).fill(0)), counts = c.map(() => 0);
    for (const r of x) {
      let best = 0;
      c.forEach((cc, j) => { if (sq(r, cc) < sq(r, c[best]!)) best = j; });
      counts[best]!++;
      r.forEach((v, t) => (sums[best]![t]! += v));
    }
    const next = c.map((cc, j) => (counts[j]! > 0 ? sums[j]!.map((v) => v / counts[j]!) : cc));
    const shifts = next.map((cc, j) => sq(cc, c[j]!));
    c = next;
    if ((rule === 'sum' ? shifts.reduce((a, b) => a + b, 0) : Math.max(...shifts)) <= threshold) return { iterations: it, centroids: c };
  }
  return { iterations: maxIter, centroids: c };
}

describe('roundRobinByCluster (pure)', () => {
  it('visits clusters largest first, each nearest-first, in rounds', () => {
    // cluster 0: rows 0 (0.5), 2 (0.2); cluster 1: rows 1 (0.1), 3 (0.3), 4 (0.9)
    expect(Array.from(roundRobinByCluster([0, 1, 0, 1, 1], [0.5, 0.1, 0.2, 0.3, 0.9], 2, 5))).toEqual([1, 2, 3, 0, 4]);
    expect(Array.from(roundRobinByCluster([0, 1, 0, 1, 1], [0.5, 0.1, 0.2, 0.3, 0.9], 2, 3))).toEqual([1, 2, 3]);
  });
  it('equal sizes go to the lower cluster; equal distances to the lower row; excluded rows are skipped', () => {
    expect(Array.from(roundRobinByCluster([1, 0, 1, 0], [0, 0, 0, 0], 2, 4))).toEqual([1, 0, 3, 2]);
    expect(Array.from(roundRobinByCluster([1, 0, 1, 0], [0, 0, 0, 0], 2, 4, Uint8Array.from([0, 1, 0, 0])))).toEqual([0, 3, 2]);
  });
  it('an empty cluster is skipped; k above the rows returns them all', () => {
    expect(Array.from(roundRobinByCluster([2, 2, 0], [1, 0, 5], 3, 10))).toEqual([1, 2, 0]);
  });
});

describe.each(TEST_BACKENDS)('k-means on %s', (backend) => {
  onBackend(backend);

  it('recovers well-separated planted blobs (partition up to renaming) for several seeds', async () => {
    const { x, blob } = plantedBlobs([15, 11, 8, 5], 6, 3);
    const xt = tf.tensor2d(x);
    for (const seed of [1, 2, 3]) {
      const r = await kmeans(xt, 4, { rng: new Rng(seed) });
      const a = await r.assignments.data();
      expect(r.assignments.dtype).toBe('int32');
      expect(r.centroids.shape).toEqual([4, 6]);
      expect(samePartition(a, blob)).toBe(true);
      expect(r.converged).toBe(true);
      expect(r.iterations).toBeLessThanOrEqual(5);
      r.dispose();
    }
    xt.dispose();
  });

  it('centroids are the blob means and distances are squared distances to them', async () => {
    const { x, blob, centres } = plantedBlobs([9, 7, 5], 4, 8);
    const xt = tf.tensor2d(x);
    const r = await kmeans(xt, 3, { rng: new Rng(4) });
    const [a, d, c] = [await r.assignments.data(), await r.distances.data(), (await r.centroids.array()) as number[][]];
    for (let i = 0; i < x.length; i++) {
      const centre = centres[blob[i]!]!;
      c[a[i]!]!.forEach((v, t) => expect(v).toBeCloseTo(centre[t]!, 3));
      expect(d[i]!).toBeCloseTo(sq(x[i]!, centre), 2);
    }
    r.dispose();
    xt.dispose();
  });

  it('stops as scikit-learn does: on the total squared centroid shift against tol x the mean variance', async () => {
    // Overlapping Gaussian rows, where the rule matters: each case stops later under the sum of the
    // squared shifts than it would under their maximum (the sanity check below).
    for (const [seed, tol] of [[12, 1e-2], [22, 1e-2], [14, 3e-3]] as const) {
      const rng = new Rng(seed);
      const x = Array.from({ length: 80 }, () => [Math.fround(rng.normal()), Math.fround(rng.normal())]);
      const xt = tf.tensor2d(x);
      const r = await kmeans(xt, 5, { rng: new Rng(seed), tol });
      const ref = lloydRef(x, r.seeds, tol);
      expect(lloydRef(x, r.seeds, tol, 'max').iterations).toBeLessThan(ref.iterations);
      expect(r.converged).toBe(true);
      expect(r.iterations).toBe(ref.iterations);
      const c = (await r.centroids.array()) as number[][];
      c.forEach((row, j) => row.forEach((v, t) => expect(v).toBeCloseTo(ref.centroids[j]![t]!, 4)));
      r.dispose();
      xt.dispose();
    }
  });

  it('chunked passes give the same clustering as one pass', async () => {
    const { x } = plantedBlobs([13, 9, 6], 5, 11);
    const xt = tf.tensor2d(x);
    const one = await kmeans(xt, 3, { rng: new Rng(9) });
    const chunked = await kmeans(xt, 3, { rng: new Rng(9), chunkSize: 5 });
    expect(Array.from(chunked.seeds)).toEqual(Array.from(one.seeds));
    expect(Array.from(await chunked.assignments.data())).toEqual(Array.from(await one.assignments.data()));
    one.dispose();
    chunked.dispose();
    xt.dispose();
  });

  it('k-means++ seeds are distinct, never excluded, deterministic per seed, one per blob when blobs are far apart', async () => {
    const { x, blob } = plantedBlobs([10, 10, 10], 3, 21, 200, 0.5);
    const xt = tf.tensor2d(x);
    const exclude = new Uint8Array(x.length);
    for (let i = 0; i < x.length; i += 3) exclude[i] = 1;
    const a = await kmeansPlusPlus(xt, 3, { rng: new Rng(5), exclude });
    expect(Array.from(await kmeansPlusPlus(xt, 3, { rng: new Rng(5), exclude }))).toEqual(Array.from(a));
    expect(new Set(a).size).toBe(3);
    for (const i of a) expect(exclude[i]).toBe(0);
    expect(new Set(Array.from(a, (i) => blob[i]))).toEqual(new Set([0, 1, 2]));
    xt.dispose();
  });

  it('k above the distinct rows: seeds stay distinct rows; maxIter caps the iterations', async () => {
    const xt = tf.tensor2d([[0, 0], [0, 0], [0, 0], [5, 5]]);
    const seeds = await kmeansPlusPlus(xt, 10, { rng: new Rng(1) });
    expect(seeds.length).toBe(4);
    expect(new Set(seeds).size).toBe(4);
    const r = await kmeans(xt, 2, { rng: new Rng(1), maxIter: 1, tol: 0 });
    expect(r.iterations).toBe(1);
    r.dispose();
    const z = await kmeans(xt, 2, { rng: new Rng(1), maxIter: 0 });
    expect(z.iterations).toBe(0);
    expect(z.converged).toBe(false);
    z.dispose();
    xt.dispose();
  });

  it('rejects bad arguments with a SelectionError', async () => {
    const xt = tf.tensor2d([[0, 0], [1, 1]]);
    await expect(kmeans(xt, 0, { rng: new Rng(1) })).rejects.toThrow(SelectionError);
    await expect(kmeans(xt, 1, { rng: new Rng(1), exclude: Uint8Array.from([1, 1]) })).rejects.toThrow('every row is excluded');
    await expect(kmeans(xt, 1, { rng: new Rng(1), exclude: Uint8Array.from([1]) })).rejects.toThrow('exclude mask has length 1');
    await expect(kmeans(tf.tensor1d([1, 2]) as unknown as tf.Tensor2D, 1, { rng: new Rng(1) })).rejects.toThrow('rank-2');
    xt.dispose();
  });

  it('kmeans and kmeansPlusPlus leak nothing', async () => {
    const { x } = plantedBlobs([7, 5], 3, 2);
    const xt = tf.tensor2d(x);
    (await kmeans(xt, 2, { rng: new Rng(1), chunkSize: 4 })).dispose(); // warm up
    const before = tf.memory().numTensors;
    const r = await kmeans(xt, 2, { rng: new Rng(1), chunkSize: 4 });
    expect(tf.memory().numTensors).toBe(before + 3);
    r.dispose();
    await kmeansPlusPlus(xt, 2, { rng: new Rng(1) });
    expect(tf.memory().numTensors).toBe(before);
    xt.dispose();
  });
});

describe.each(TEST_BACKENDS)('kmeansDiversity on %s', (backend) => {
  onBackend(backend);
  const sizes = [11, 8, 6, 4];
  const { x, blob, centres } = plantedBlobs(sizes, 5, 17);
  const inputs = (extra: Partial<AcquisitionInputs> = {}, seed = 1) => ({ n: x.length, rng: new Rng(seed), ...extra });

  it('with k = number of clusters: one row per cluster, the one at its centre, largest cluster first', async () => {
    const embeddings = tf.tensor2d(x);
    const { indices, scores } = await acquire(STRATEGIES.kmeansDiversity, inputs({ embeddings, numClasses: 4 }), 4);
    expect(scores).toBeNull();
    expect(Array.from(indices)).toEqual(roundRobinRef(x, blob, centres, 4));
    expect(Array.from(indices, (i) => blob[i])).toEqual([0, 1, 2, 3]); // sizes 11, 8, 6, 4
    embeddings.dispose();
  });

  it('with k > clusters: round-robin, each cluster nearest-first (documented order)', async () => {
    const embeddings = tf.tensor2d(x);
    const k = 13;
    const { indices } = await acquire(STRATEGIES.kmeansDiversity, inputs({ embeddings, numClasses: 4 }), k);
    expect(Array.from(indices)).toEqual(roundRobinRef(x, blob, centres, k));
    embeddings.dispose();
  });

  it('the raw-input variant needs only inputs and clusters the same way', async () => {
    expect(STRATEGIES.kmeansDiversityRaw.needs).toEqual(['inputs']);
    expect(STRATEGIES.kmeansDiversity.needs).toEqual(['embeddings']);
    const raw = tf.tensor2d(x);
    const { indices } = await acquire(STRATEGIES.kmeansDiversityRaw, inputs({ inputs: raw, numClasses: 4 }), 4);
    expect(Array.from(indices)).toEqual(roundRobinRef(x, blob, centres, 4));
    await expect(acquire(STRATEGIES.kmeansDiversityRaw, inputs({ embeddings: raw }), 4)).rejects.toThrow(
      "strategy 'kmeansDiversityRaw' needs 'inputs' but the loop did not provide it",
    );
    raw.dispose();
  });

  it('the cluster count comes from the option, else probs width C, else numClasses, else 10', async () => {
    const embeddings = tf.tensor2d(x);
    const probs = tf.fill([x.length, 4], 0.25) as tf.Tensor2D;
    const firstRound = async (s = STRATEGIES.kmeansDiversity, extra: Partial<AcquisitionInputs> = {}) =>
      new Set(Array.from((await acquire(s, inputs({ embeddings, ...extra }), 4)).indices, (i) => blob[i])).size;
    expect(await firstRound(STRATEGIES.kmeansDiversity, { probs })).toBe(4);
    expect(await firstRound(STRATEGIES.kmeansDiversity, { numClasses: 4 })).toBe(4);
    expect(await firstRound(kmeansDiversityStrategy({ source: 'embeddings', clusters: 4 }), { numClasses: 2 })).toBe(4);
    // two clusters: the first 4 picks are 2 rounds over 2 clusters, so they cannot cover 4 blobs
    expect(await firstRound(kmeansDiversityStrategy({ source: 'embeddings', clusters: 2 }))).toBeLessThan(4);
    expect(DEFAULT_CLUSTERS).toBe(10);
    // 10 clusters by default over 4 blobs still returns 4 distinct rows
    const def = await acquire(STRATEGIES.kmeansDiversity, inputs({ embeddings }), 4);
    expect(new Set(def.indices).size).toBe(4);
    embeddings.dispose();
    probs.dispose();
  });

  it('honours exclusion (never picks an excluded row; an excluded centre gives way to the next nearest)', async () => {
    const embeddings = tf.tensor2d(x);
    const first = roundRobinRef(x, blob, centres, 4);
    const exclude = [first[0]!, first[2]!];
    const { indices } = await acquire(STRATEGIES.kmeansDiversity, inputs({ embeddings, numClasses: 4 }), 4, { exclude });
    expect(Array.from(indices).some((i) => exclude.includes(i))).toBe(false);
    expect(new Set(Array.from(indices, (i) => blob[i]))).toEqual(new Set([0, 1, 2, 3]));
    expect(indices).toContain(first[1]);
    expect(indices).toContain(first[3]);
    embeddings.dispose();
  });

  it('k larger than the candidates returns every non-excluded row once', async () => {
    const embeddings = tf.tensor2d(x);
    const { indices } = await acquire(STRATEGIES.kmeansDiversity, inputs({ embeddings, numClasses: 4 }), 1000, { exclude: [0, 1] });
    expect(indices.length).toBe(x.length - 2);
    expect(new Set(indices).size).toBe(x.length - 2);
    const all = await acquire(STRATEGIES.kmeansDiversity, inputs({ embeddings, numClasses: 4 }), 1000, { exclude: Array.from(x.keys()) });
    expect(all.indices.length).toBe(0);
    embeddings.dispose();
  });

  it('is deterministic per rng seed', async () => {
    // Overlapping blobs, so the seeding matters.
    const rng = new Rng(3);
    const pts = Array.from({ length: 40 }, () => [rng.normal(), rng.normal(), rng.normal()]);
    const embeddings = tf.tensor2d(pts);
    const run = async (seed: number) => Array.from((await acquire(STRATEGIES.kmeansDiversity, inputs({ n: 40, embeddings, numClasses: 5 }, seed), 12)).indices);
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    const others = await Promise.all([8, 9, 10].map(run));
    expect(others.some((o) => o.join() !== a.join())).toBe(true);
    embeddings.dispose();
  });

  it('acquire leaks nothing (both variants)', async () => {
    const t = tf.tensor2d(x);
    const inp = inputs({ embeddings: t, inputs: t, numClasses: 4 });
    await acquire(STRATEGIES.kmeansDiversity, inp, 5); // warm up
    const before = tf.memory().numTensors;
    await acquire(STRATEGIES.kmeansDiversity, inp, 5);
    await acquire(STRATEGIES.kmeansDiversityRaw, inp, 5, { exclude: [3] });
    expect(tf.memory().numTensors).toBe(before);
    t.dispose();
  });
});

/** Sizes of every async readback `f` makes; fails on any blocking readback. */
async function readbackSizes(f: () => Promise<unknown>): Promise<number[]> {
  const data = vi.spyOn(tf.Tensor.prototype, 'data');
  const sync = vi.spyOn(tf.Tensor.prototype, 'dataSync');
  const arr = vi.spyOn(tf.Tensor.prototype, 'arraySync');
  try {
    await f();
    expect(sync).not.toHaveBeenCalled();
    expect(arr).not.toHaveBeenCalled();
    return data.mock.contexts.map((t) => (t as tf.Tensor).size);
  } finally {
    vi.restoreAllMocks();
  }
}

describe.each(TEST_BACKENDS)('distance helpers and readback on %s', (backend) => {
  onBackend(backend);
  afterEach(() => vi.restoreAllMocks());

  it('passRows: all rows while the N x K block fits the budget, else budget / max(D, K) rows; an explicit chunk wins', () => {
    expect(CHUNK_ELEMENTS).toBe(4_194_304);
    expect(passRows(60_000, 128, 10)).toBe(60_000);
    expect(passRows(60_000, 128, 128)).toBe(32_768);
    expect(passRows(60_000, 128, 1024)).toBe(4096);
    expect(passRows(60_000, 128, 10, 500)).toBe(500);
    expect(() => passRows(10, 2, 2, 0)).toThrow(SelectionError);
  });

  it('rows() takes a block of rows (x itself for all of them)', async () => {
    const x = tf.tensor2d([[1, 2], [3, 4], [5, 6], [7, 8]]);
    const v = tf.tensor1d([1, 2, 3, 4]);
    const r = rows(x, 1, 2), s = rows(v, 3, 1);
    expect(await r.array()).toEqual([[3, 4], [5, 6]]);
    expect(Array.from(await s.data())).toEqual([4]);
    expect(rows(x, 0, 4)).toBe(x);
    tf.dispose([x, v, r, s]);
  });

  it('D^2 draws follow the weights, never pick a zero weight, and fall back to a uniform open row', async () => {
    const w = tf.tensor1d([0, 1, 0, 3, 0]);
    const rng = new Rng(6);
    const counts = [0, 0, 0, 0, 0];
    for (let i = 0; i < 200; i++) counts[await sampleProportional(w, rng)]!++;
    expect(counts[0]! + counts[2]! + counts[4]!).toBe(0);
    expect(counts[3]! / 200).toBeGreaterThan(0.65); // expected 0.75
    expect(counts[3]! / 200).toBeLessThan(0.85);
    const zero = tf.zeros([4]) as tf.Tensor1D;
    expect(await sampleProportional(zero, new Rng(1))).toBe(-1);
    const open = new Set<number>();
    for (let i = 0; i < 20; i++) open.add(await pickD2(zero, rng, (r) => r !== 2));
    expect(open.has(2)).toBe(false);
    expect(open.size).toBe(3);
    expect(await pickD2(zero, rng, () => false)).toBe(-1);
    // a draw landing on a closed row takes the heaviest open row instead
    expect(await pickD2(tf.tensor1d([5, 0, 1]), new Rng(1), (r) => r !== 0)).toBe(2);
    tf.dispose([w, zero]);
  });

  it('k-means reads back only scalars per step (never N x D or N x N) and never blocks', async () => {
    const { x } = plantedBlobs([30, 20, 10], 8, 4);
    const xt = tf.tensor2d(x);
    await kmeans(xt, 3, { rng: new Rng(1) }).then((r) => r.dispose()); // warm up
    let iterations = 0;
    const sizes = await readbackSizes(async () => {
      const r = await kmeans(xt, 3, { rng: new Rng(1) });
      iterations = r.iterations;
      r.dispose();
    });
    expect(Math.max(...sizes)).toBe(1);
    expect(sizes.length).toBe(1 + 2 + iterations); // threshold, two k-means++ draws, one shift per iteration
    // The strategy adds one read of the N assignments and one of the N distances, at the end.
    const all = await readbackSizes(() => acquire(STRATEGIES.kmeansDiversity, { n: x.length, embeddings: xt, numClasses: 3, rng: new Rng(1) }, 3));
    expect(all.filter((s) => s > 1)).toEqual([x.length, x.length]);
    xt.dispose();
  });
});
