import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng.ts';
import {
  classCounts,
  DATASET_NAMES,
  DATASETS,
  loadDataset,
  makeBlobs,
  makeClassification,
  makeClassificationArrays,
  makeMoons,
  type Dataset,
  type Split,
} from '../../datasets/index.ts';

const SYNTHETIC = ['moons', 'blobs', 'classification'] as const;

/** k-nearest-neighbour accuracy of `test` against `train` (plain JS, majority vote). */
function knnAccuracy(train: Split, test: Split, d: number, k: number, numClasses: number): number {
  let correct = 0;
  const dist = new Float64Array(train.n);
  for (let i = 0; i < test.n; i++) {
    for (let j = 0; j < train.n; j++) {
      let s = 0;
      for (let t = 0; t < d; t++) {
        const q = test.x[i * d + t]! - train.x[j * d + t]!;
        s += q * q;
      }
      dist[j] = s;
    }
    const order = Array.from(dist.keys()).sort((a, b) => dist[a]! - dist[b]!);
    const votes = new Array<number>(numClasses).fill(0);
    for (let q = 0; q < k; q++) votes[train.y[order[q]!]!]!++;
    if (votes.indexOf(Math.max(...votes)) === test.y[i]) correct++;
  }
  return correct / test.n;
}

describe.each(SYNTHETIC)('%s', (name) => {
  it('matches its registry metadata (shape, kind, classes, sizes, Float32Array)', async () => {
    const ds = (await loadDataset(name, { seed: 3 })) as Dataset<string>;
    const spec = DATASETS[name];
    expect(ds.name).toBe(name);
    expect(ds.kind).toBe(spec.kind);
    expect(ds.shape).toEqual(spec.shape);
    expect(ds.numClasses).toBe(spec.numClasses);
    expect(ds.classNames).toEqual(spec.classNames);
    expect({ train: ds.train.n, test: ds.test.n }).toEqual(spec.sizes);
    for (const s of [ds.train, ds.test]) {
      expect(s.x).toBeInstanceOf(Float32Array);
      expect(s.x.length).toBe(s.n * ds.shape[0]!);
      expect(s.y.length).toBe(s.n);
      expect(s.x.every(Number.isFinite)).toBe(true);
      expect(Math.max(...s.y)).toBe(ds.numClasses - 1);
    }
  });

  it('is deterministic per seed and differs across seeds', async () => {
    const a = await loadDataset(name, { seed: 11 });
    const b = await loadDataset(name, { seed: 11 });
    const c = await loadDataset(name, { seed: 12 });
    expect(a.train.x).toEqual(b.train.x);
    expect(a.train.y).toEqual(b.train.y);
    expect(a.test.x).toEqual(b.test.x);
    expect(a.train.x).not.toEqual(c.train.x);
  });
});

describe('moons', () => {
  it('is balanced 400/400 + 100/100 and shaped like two moons', () => {
    const ds = makeMoons({ seed: 1, noise: 0 });
    expect(classCounts(ds.train, 2)).toEqual([400, 400]);
    expect(classCounts(ds.test, 2)).toEqual([100, 100]);
    // Noise-free: outer moon on the unit circle, inner on the circle around (1, 0.5).
    for (let i = 0; i < ds.train.n; i++) {
      const x = ds.train.x[2 * i]!, y = ds.train.x[2 * i + 1]!;
      const r = ds.train.y[i] === 0 ? Math.hypot(x, y) : Math.hypot(x - 1, y - 0.5);
      expect(r).toBeCloseTo(1, 5);
    }
  });

  it('honours params through loadDataset', async () => {
    const ds = await loadDataset('moons', { seed: 1, params: { n: 101, noise: 0.1 } });
    expect(ds.train.n + ds.test.n).toBe(101);
    expect(ds.test.n).toBe(20);
    expect(classCounts(ds.train, 2).concat(classCounts(ds.test, 2)).reduce((a, b) => a + b)).toBe(101);
  });
});

describe('blobs', () => {
  it('has k balanced, well separated classes', () => {
    const ds = makeBlobs({ seed: 5, k: 4, n: 400, std: 0.5 });
    expect(ds.numClasses).toBe(4);
    expect(ds.classNames).toEqual(['blob 0', 'blob 1', 'blob 2', 'blob 3']);
    expect(classCounts(ds.train, 4)).toEqual([80, 80, 80, 80]);
    expect(classCounts(ds.test, 4)).toEqual([20, 20, 20, 20]);
    expect(knnAccuracy(ds.train, ds.test, 2, 5, 4)).toBeGreaterThan(0.9);
  });
});

describe('classification (make_classification, seed-001 setup)', () => {
  it('has 600 samples, 6 features, 2 classes, stratified 480/120', () => {
    const ds = makeClassification({ seed: 0 });
    expect(ds.shape).toEqual([6]);
    expect(ds.kind).toBe('tabular');
    expect(ds.train.n).toBe(480);
    expect(ds.test.n).toBe(120);
    const tr = classCounts(ds.train, 2), te = classCounts(ds.test, 2);
    // Clusters are equal-sized; flip_y only perturbs the balance a little.
    expect(Math.abs(tr[0]! - tr[1]!)).toBeLessThan(60);
    // Stratified: the test share of each class is 20% (rounded).
    expect(Math.abs(te[0]! - (tr[0]! + te[0]!) * 0.2)).toBeLessThanOrEqual(1);
  });

  it('follows the sklearn construction: roles, redundant = linear combo, flip_y ~ 15%', () => {
    const { x, y, roles, flipped } = makeClassificationArrays({ seed: 9 }, new Rng(9));
    expect([...roles].sort()).toEqual(['informative', 'informative', 'informative', 'noise', 'noise', 'redundant']);
    const inf = roles.flatMap((r, j) => (r === 'informative' ? [j] : []));
    const red = roles.indexOf('redundant');
    // Least squares of the redundant column on the informative ones leaves ~0 residual.
    const n = y.length, f = 6;
    const A = inf.map((a) => inf.map((b) => { let s = 0; for (let i = 0; i < n; i++) s += x[i * f + a]! * x[i * f + b]!; return s; }));
    const rhs = inf.map((a) => { let s = 0; for (let i = 0; i < n; i++) s += x[i * f + a]! * x[i * f + red]!; return s; });
    const w = solve3(A, rhs);
    let resid = 0, total = 0;
    for (let i = 0; i < n; i++) {
      const p = inf.reduce((s, a, k) => s + w[k]! * x[i * f + a]!, 0);
      resid += (x[i * f + red]! - p) ** 2;
      total += x[i * f + red]! ** 2;
    }
    expect(resid / total).toBeLessThan(1e-12);
    const flips = flipped.reduce((a, b) => a + b, 0);
    expect(flips / n).toBeGreaterThan(0.1);
    expect(flips / n).toBeLessThan(0.2);
  });

  it('is learnable: 15-NN beats chance (0.5) clearly on every seed tried', () => {
    const accs: number[] = [];
    for (const seed of [0, 1, 2, 3, 4]) {
      const ds = makeClassification({ seed });
      accs.push(knnAccuracy(ds.train, ds.test, 6, 15, 2));
    }
    for (const a of accs) expect(a).toBeGreaterThan(0.65);
    expect(accs.reduce((s, a) => s + a) / accs.length).toBeGreaterThan(0.72);
  });

  it('is harder with more label noise and less separation', () => {
    const acc = (o: { flipY: number; classSep: number }) => {
      let s = 0;
      for (const seed of [0, 1, 2]) {
        const ds = makeClassification({ seed, ...o });
        s += knnAccuracy(ds.train, ds.test, 6, 15, 2);
      }
      return s / 3;
    };
    expect(acc({ flipY: 0, classSep: 2 })).toBeGreaterThan(acc({ flipY: 0.15, classSep: 0.6 }) + 0.1);
  });
});

describe('registry', () => {
  it('lists every dataset with plain metadata', () => {
    expect(DATASET_NAMES).toEqual(['mnist', 'fashion-mnist', 'moons', 'blobs', 'classification']);
    for (const name of DATASET_NAMES) {
      const spec = DATASETS[name];
      expect(spec.description.length).toBeGreaterThan(10);
      expect(spec.classNames.length).toBe(spec.numClasses);
      expect(spec.sizes.train).toBeGreaterThan(spec.sizes.test);
    }
  });

  it('rejects unknown names listing the known ones, and unknown params', async () => {
    await expect(loadDataset('cifar' as never)).rejects.toThrow(
      "unknown dataset 'cifar'; known: mnist, fashion-mnist, moons, blobs, classification",
    );
    await expect(loadDataset('moons', { params: { k: 3 } as never })).rejects.toThrow(
      "loadDataset('moons'): unknown param 'k'; known: n, noise",
    );
  });

  it('asks for a DataSource for file-backed datasets', async () => {
    await expect(loadDataset('mnist')).rejects.toThrow(/dataset 'mnist' reads data files and needs a DataSource/);
  });
});

function solve3(A: number[][], b: number[]): number[] {
  // Gaussian elimination with partial pivoting for the 3x3 normal equations.
  const m = A.map((row, i) => [...row, b[i]!]);
  const k = m.length;
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let j = c; j <= k; j++) m[r]![j]! -= f * m[c]![j]!;
    }
  }
  return m.map((row, i) => row[k]! / row[i]!);
}
