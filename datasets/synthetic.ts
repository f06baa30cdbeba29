/**
 * Synthetic datasets, generated from a seed (same seed, same bytes; different seed, different data).
 *
 * All of them: Float32Array x, and a default stratified train/test split of 80/20 (the test share
 * of each class is `round`ed with largest remainders so the test size is exactly
 * `round(n * testFraction)`), after which train and test are each shuffled. Streams:
 * `new Rng(seed).fork('data')` generates, `.fork('split')` splits (forked in that order).
 *
 * Browser-safe.
 */
import { Rng } from '../src/rng.ts';
import { BLOBS_DEFAULTS, CLASSIFICATION_DEFAULTS, DEFAULT_TEST_FRACTION, MOONS_DEFAULTS } from './catalog.ts';
import { stratifiedSplit } from './split.ts';
import type { Dataset } from './types.ts';

// The generators' defaults are catalog data (datasets/catalog.ts): the split sizes follow from them.
export { BLOBS_DEFAULTS, CLASSIFICATION_DEFAULTS, DEFAULT_TEST_FRACTION, MOONS_DEFAULTS };
export { stratifiedSplit };

// ---------------------------------------------------------------------------------------------
// moons

export interface MoonsOptions {
  seed: number;
  /** Total samples (train + test); default 1000. Class 0 (outer moon) gets floor(n/2). */
  n?: number;
  /** Std of the gaussian noise added to both coordinates; default 0.2. */
  noise?: number;
  testFraction?: number;
}

/** sklearn.datasets.make_moons: two interleaving half circles, 2-D, 2 classes. */
export function makeMoons(opts: MoonsOptions): Dataset<'moons'> {
  const { n, noise, testFraction } = withDefaults(MOONS_DEFAULTS, opts);
  checkCount('moons n', n, 2);
  const root = new Rng(opts.seed);
  const rng = root.fork('data');
  const nOut = Math.floor(n / 2);
  const nIn = n - nOut;
  const x = new Float32Array(n * 2);
  const y = new Uint8Array(n);
  const lin = (i: number, m: number) => (m > 1 ? (Math.PI * i) / (m - 1) : 0);
  for (let i = 0; i < n; i++) {
    const outer = i < nOut;
    const t = outer ? lin(i, nOut) : lin(i - nOut, nIn);
    const px = outer ? Math.cos(t) : 1 - Math.cos(t);
    const py = outer ? Math.sin(t) : 1 - Math.sin(t) - 0.5;
    x[2 * i] = px + noise * rng.normal();
    x[2 * i + 1] = py + noise * rng.normal();
    y[i] = outer ? 0 : 1;
  }
  const { train, test } = stratifiedSplit(x, y, 2, testFraction, root.fork('split'));
  return { name: 'moons', shape: [2], numClasses: 2, classNames: ['outer', 'inner'], train, test, kind: 'points' };
}

// ---------------------------------------------------------------------------------------------
// blobs

export interface BlobsOptions {
  seed: number;
  /** Total samples; default 1000, split as evenly as possible (the first n % k blobs get one more). */
  n?: number;
  /** Number of blobs = classes; default 3. */
  k?: number;
  /** Std of each isotropic gaussian blob; default 1. */
  std?: number;
  /** Centres are uniform in [-box, box]^2; default 10 (sklearn's center_box). */
  box?: number;
  testFraction?: number;
}

/** sklearn.datasets.make_blobs with random centres: 2-D, k classes. */
export function makeBlobs(opts: BlobsOptions): Dataset<'blobs'> {
  const { n, k, std, box, testFraction } = withDefaults(BLOBS_DEFAULTS, opts);
  checkCount('blobs k', k, 1);
  if (k > 255) throw new RangeError(`blobs k must be at most 255, got ${k}`);
  checkCount('blobs n', n, k);
  const root = new Rng(opts.seed);
  const rng = root.fork('data');
  const centres = Array.from({ length: k }, () => [(2 * rng.next() - 1) * box, (2 * rng.next() - 1) * box] as const);
  const x = new Float32Array(n * 2);
  const y = new Uint8Array(n);
  let i = 0;
  for (let c = 0; c < k; c++) {
    const m = Math.floor(n / k) + (c < n % k ? 1 : 0);
    const [cx, cy] = centres[c]!;
    for (let j = 0; j < m; j++, i++) {
      x[2 * i] = cx + std * rng.normal();
      x[2 * i + 1] = cy + std * rng.normal();
      y[i] = c;
    }
  }
  const { train, test } = stratifiedSplit(x, y, k, testFraction, root.fork('split'));
  const classNames = Array.from({ length: k }, (_, c) => `blob ${c}`);
  return { name: 'blobs', shape: [2], numClasses: k, classNames, train, test, kind: 'points' };
}

// ---------------------------------------------------------------------------------------------
// classification (sklearn make_classification)

export interface ClassificationOptions {
  seed: number;
  nSamples?: number;
  nFeatures?: number;
  nInformative?: number;
  nRedundant?: number;
  nRepeated?: number;
  nClasses?: number;
  nClustersPerClass?: number;
  /** Fraction of samples whose label is replaced by a uniformly random class (which may be the same one). */
  flipY?: number;
  classSep?: number;
  hypercube?: boolean;
  shift?: number;
  scale?: number;
  /** Shuffle rows and permute columns (sklearn's shuffle=True). */
  shuffle?: boolean;
  testFraction?: number;
}

export type FeatureRole = 'informative' | 'redundant' | 'repeated' | 'noise';

export interface ClassificationArrays {
  /** Row-major [nSamples, nFeatures], float64. */
  x: Float64Array;
  y: Uint8Array;
  /** Role of each column after the column permutation. */
  roles: FeatureRole[];
  /** Which rows had their label re-drawn by flipY (after the row shuffle). */
  flipped: Uint8Array;
}

/**
 * A TypeScript re-implementation of sklearn.datasets.make_classification, step for step:
 * 1. each class gets `nClustersPerClass` gaussian clusters; cluster k has class k % nClasses and
 *    floor(n / nClusters) samples (the first n % nClusters clusters one more);
 * 2. cluster centroids are distinct random vertices of the nInformative-dimensional hypercube
 *    with side 2 * classSep centred on 0 (if `hypercube` is false, vertices are additionally
 *    scaled by random uniforms per cluster and per dimension);
 * 3. informative features: standard normal, multiplied per cluster by a random matrix
 *    A ~ U(-1, 1)^(nInf x nInf) (a random covariance), plus the centroid;
 * 4. redundant features: X_inf @ B with B ~ U(-1, 1)^(nInf x nRedundant);
 * 5. repeated features: copies of random informative/redundant columns;
 * 6. the remaining features: standard normal noise;
 * 7. flipY: each label, with probability flipY, is replaced by a uniform random class;
 * 8. X = (X + shift) * scale; then rows are shuffled and columns permuted.
 * The random draws come from our `Rng` (sfc32, Box-Muller normals), not numpy's MT19937, so it
 * does not reproduce sklearn's numbers for a given random_state, only the construction and its
 * statistics.
 */
export function makeClassificationArrays(opts: ClassificationOptions, rng: Rng): ClassificationArrays {
  const o = withDefaults(CLASSIFICATION_DEFAULTS, opts);
  const { nSamples: n, nFeatures: f, nInformative: ni, nRedundant: nr, nRepeated: np, nClasses: nc } = o;
  checkCount('nInformative', ni, 1);
  checkCount('nClasses', nc, 2);
  if (nc > 255) throw new RangeError(`nClasses must be at most 255, got ${nc}`);
  checkCount('nClustersPerClass', o.nClustersPerClass, 1);
  for (const [k, v] of [['nRedundant', nr], ['nRepeated', np]] as const) checkCount(k, v, 0);
  if (ni + nr + np > f) {
    throw new RangeError(`nInformative + nRedundant + nRepeated (${ni + nr + np}) must be at most nFeatures (${f})`);
  }
  const nClusters = nc * o.nClustersPerClass;
  if (ni > 30) throw new RangeError(`nInformative must be at most 30 here, got ${ni}`);
  if (nClusters > 2 ** ni) {
    throw new RangeError(`nClasses * nClustersPerClass (${nClusters}) must be at most 2**nInformative (${2 ** ni})`);
  }
  checkCount('nSamples', n, nClusters);
  const nUseless = f - ni - nr - np;

  // 2. centroids: distinct hypercube vertices (the bits of a sample without replacement).
  const vertices = rng.sample(2 ** ni, nClusters);
  const centroids: number[][] = Array.from(vertices, (v) =>
    Array.from({ length: ni }, (_, b) => (((v >>> (ni - 1 - b)) & 1) * 2 * o.classSep) - o.classSep),
  );
  if (!o.hypercube) {
    const perCluster = centroids.map(() => rng.next());
    const perDim = Array.from({ length: ni }, () => rng.next());
    centroids.forEach((cen, k) => cen.forEach((_, j) => (cen[j]! *= perCluster[k]! * perDim[j]!)));
  }

  const x = new Float64Array(n * f);
  const y = new Uint8Array(n);
  // 3. informative features.
  for (let i = 0; i < n; i++) for (let j = 0; j < ni; j++) x[i * f + j] = rng.normal();
  let stop = 0;
  const row = new Float64Array(ni);
  for (let k = 0; k < nClusters; k++) {
    const start = stop;
    stop = start + Math.floor(n / nClusters) + (k < n % nClusters ? 1 : 0);
    const a = Array.from({ length: ni * ni }, () => 2 * rng.next() - 1);
    const cen = centroids[k]!;
    for (let i = start; i < stop; i++) {
      y[i] = k % nc;
      for (let j = 0; j < ni; j++) row[j] = x[i * f + j]!;
      for (let j = 0; j < ni; j++) {
        let s = 0;
        for (let t = 0; t < ni; t++) s += row[t]! * a[t * ni + j]!;
        x[i * f + j] = s + cen[j]!;
      }
    }
  }
  // 4. redundant = informative @ B.
  if (nr > 0) {
    const b = Array.from({ length: ni * nr }, () => 2 * rng.next() - 1);
    for (let i = 0; i < n; i++) {
      for (let r = 0; r < nr; r++) {
        let s = 0;
        for (let t = 0; t < ni; t++) s += x[i * f + t]! * b[t * nr + r]!;
        x[i * f + ni + r] = s;
      }
    }
  }
  // 5. repeated columns.
  if (np > 0) {
    const m = ni + nr;
    const src = Array.from({ length: np }, () => Math.floor((m - 1) * rng.next() + 0.5));
    for (let i = 0; i < n; i++) for (let r = 0; r < np; r++) x[i * f + m + r] = x[i * f + src[r]!]!;
  }
  // 6. noise columns.
  for (let i = 0; i < n; i++) for (let j = f - nUseless; j < f; j++) x[i * f + j] = rng.normal();
  // 7. label noise.
  const flippedGen = new Uint8Array(n);
  if (o.flipY > 0) {
    const mask = Array.from({ length: n }, () => rng.next() < o.flipY);
    for (let i = 0; i < n; i++) {
      if (mask[i]) {
        y[i] = rng.int(nc);
        flippedGen[i] = 1;
      }
    }
  }
  // 8. shift, scale, shuffle rows and columns.
  for (let i = 0; i < x.length; i++) x[i] = (x[i]! + o.shift) * o.scale;
  const rolesGen: FeatureRole[] = [
    ...Array<FeatureRole>(ni).fill('informative'),
    ...Array<FeatureRole>(nr).fill('redundant'),
    ...Array<FeatureRole>(np).fill('repeated'),
    ...Array<FeatureRole>(nUseless).fill('noise'),
  ];
  if (!o.shuffle) return { x, y, roles: rolesGen, flipped: flippedGen };
  const rows = rng.permutation(n);
  const cols = rng.permutation(f);
  const xs = new Float64Array(n * f);
  const ys = new Uint8Array(n);
  const flipped = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const srcRow = rows[i]!;
    ys[i] = y[srcRow]!;
    flipped[i] = flippedGen[srcRow]!;
    for (let j = 0; j < f; j++) xs[i * f + j] = x[srcRow * f + cols[j]!]!;
  }
  return { x: xs, y: ys, roles: Array.from(cols, (c) => rolesGen[c]!), flipped };
}

/** make_classification as a Dataset (kind 'tabular'), with the default 80/20 stratified split. */
export function makeClassification(opts: ClassificationOptions): Dataset<'classification'> {
  const o = withDefaults(CLASSIFICATION_DEFAULTS, opts);
  const root = new Rng(opts.seed);
  const { x, y } = makeClassificationArrays(o, root.fork('data'));
  const { train, test } = stratifiedSplit(Float32Array.from(x), y, o.nClasses, o.testFraction, root.fork('split'));
  const classNames = Array.from({ length: o.nClasses }, (_, c) => `class ${c}`);
  return {
    name: 'classification',
    shape: [o.nFeatures],
    numClasses: o.nClasses,
    classNames,
    train,
    test,
    kind: 'tabular',
  };
}

/** `{...defaults, ...opts}`, except that `undefined` in opts keeps the default. */
function withDefaults<O extends object>(
  defaults: { readonly [K in keyof O]?: O[K] },
  opts: O,
): { [K in keyof O]-?: Exclude<O[K], undefined> } {
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(opts)) if (v !== undefined) out[k] = v;
  return out as { [K in keyof O]-?: Exclude<O[K], undefined> };
}

function checkCount(what: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`${what} must be an integer >= ${min}, got ${v}`);
}
