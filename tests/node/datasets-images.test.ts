import { copyFile, mkdir, mkdtemp, rm, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  classCounts,
  DATASETS,
  DataFileError,
  FASHION_MNIST_FILES,
  FASHION_MNIST_SPLIT,
  loadDataset,
  type Dataset,
  type Split,
} from '../../datasets/index.ts';
import { isFashionMnistCacheValid, prepareDatasets, splitFashionMnist } from '../../datasets/prepare.ts';
import { defaultCacheDir, nodeSource } from '../../datasets/source-node.ts';

const pixelRange = (s: Split) => {
  let min = 255, max = 0;
  for (let i = 0; i < s.x.length; i += 97) {
    const v = s.x[i]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
};

/** FNV-1a of one 784-byte row, as a Map key. */
function rowKey(x: Uint8Array | Float32Array, i: number): string {
  let h1 = 0x811c9dc5, h2 = 7;
  for (let j = i * 784; j < (i + 1) * 784; j++) {
    h1 = Math.imul(h1 ^ x[j]!, 0x01000193);
    h2 = Math.imul(h2 + x[j]!, 0x5bd1e995) ^ (h2 >>> 13);
  }
  return `${h1 >>> 0}:${h2 >>> 0}`;
}

describe('mnist', () => {
  let ds: Dataset<'mnist'>;
  beforeAll(async () => {
    ds = await loadDataset('mnist', { source: nodeSource() });
  });

  it('has the standard sizes and metadata', () => {
    expect(ds.name).toBe('mnist');
    expect(ds.kind).toBe('image');
    expect(ds.shape).toEqual([28, 28, 1]);
    expect(ds.numClasses).toBe(10);
    expect(ds.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(ds.train.n).toBe(60_000);
    expect(ds.test.n).toBe(10_000);
    expect(ds.train.x).toBeInstanceOf(Uint8Array);
    expect(ds.train.x.length).toBe(60_000 * 784);
    expect(ds.test.x.length).toBe(10_000 * 784);
    expect(ds.train.y.length).toBe(60_000);
    const spec = DATASETS.mnist;
    expect([spec.sizes.train, spec.sizes.test]).toEqual([ds.train.n, ds.test.n]);
  });

  it('has the known first labels (train 5 0 4 1 9, test 7 2 1 0 4) and pixels 0..255', () => {
    expect(Array.from(ds.train.y.subarray(0, 5))).toEqual([5, 0, 4, 1, 9]);
    expect(Array.from(ds.test.y.subarray(0, 5))).toEqual([7, 2, 1, 0, 4]);
    expect(pixelRange(ds.train)).toEqual([0, 255]);
    expect(pixelRange(ds.test)).toEqual([0, 255]);
    // The first training digit (a 5): blank first rows, ink in the middle.
    expect(ds.train.x.subarray(0, 28 * 4).every((v) => v === 0)).toBe(true);
    expect(ds.train.x.subarray(14 * 28, 15 * 28).some((v) => v > 200)).toBe(true);
    // Known class counts of the MNIST training set.
    expect(classCounts(ds.train, 10)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
  });

  it('names the file in errors for a missing or truncated file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'activelab-ds-'));
    try {
      await expect(loadDataset('fashion-mnist', { source: nodeSource({ cacheDir: dir }) })).rejects.toThrow(
        /^fashion-mnist\/(train|t10k)-(images|labels)-idx\d-ubyte: not found: expected a file at .*; build it with `node --import tsx datasets\/prepare.ts`/,
      );
      // A source whose t10k labels file is cut short.
      const source = {
        read: async (name: string) => {
          const bytes = await nodeSource().read(name as never);
          return name === 'mnist/t10k-labels-idx1-ubyte' ? bytes.subarray(0, 5000) : bytes;
        },
      };
      const err = await loadDataset('mnist', { source }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DataFileError);
      expect((err as Error).message).toBe(
        'mnist/t10k-labels-idx1-ubyte: truncated: expected 10008 bytes (header 8 + 10000), found 5000',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('fashion-mnist', () => {
  let ds: Dataset<'fashion-mnist'>;
  beforeAll(async () => {
    await prepareDatasets(); // fast when the cache exists; ~3 s the first time
    ds = await loadDataset('fashion-mnist', { source: nodeSource() });
  });

  it('prepare is idempotent and fast once the cache exists', async () => {
    const t0 = performance.now();
    const [r] = await prepareDatasets();
    expect(r!.built).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await isFashionMnistCacheValid()).toBe(true);
  });

  it('cache check looks at the manifest and each file size', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'activelab-cache-'));
    try {
      await mkdir(join(dir, 'fashion-mnist'));
      expect(await isFashionMnistCacheValid(dir)).toBe(false);
      await copyFile(join(defaultCacheDir(), 'fashion-mnist', 'manifest.json'), join(dir, 'fashion-mnist', 'manifest.json'));
      const sizes: Record<string, number> = {
        [FASHION_MNIST_FILES.trainImages]: 47_040_016,
        [FASHION_MNIST_FILES.trainLabels]: 60_008,
        [FASHION_MNIST_FILES.testImages]: 7_840_016,
        [FASHION_MNIST_FILES.testLabels]: 10_008,
      };
      for (const [name, size] of Object.entries(sizes)) {
        await copyFile(join(defaultCacheDir(), 'fashion-mnist', 'manifest.json'), join(dir, name));
        await truncate(join(dir, name), size); // sparse file of the right size
      }
      expect(await isFashionMnistCacheValid(dir)).toBe(true);
      await truncate(join(dir, FASHION_MNIST_FILES.testLabels), 10_007);
      expect(await isFashionMnistCacheValid(dir)).toBe(false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('has 60k/10k, 10 named classes, 6000/1000 per class, pixels 0..255', () => {
    expect(ds.shape).toEqual([28, 28, 1]);
    expect(ds.classNames).toEqual([
      'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
    ]);
    expect(ds.train.n).toBe(FASHION_MNIST_SPLIT.train);
    expect(ds.test.n).toBe(FASHION_MNIST_SPLIT.test);
    expect(classCounts(ds.train, 10)).toEqual(new Array(10).fill(6000));
    expect(classCounts(ds.test, 10)).toEqual(new Array(10).fill(1000));
    expect(pixelRange(ds.train)).toEqual([0, 255]);
    // Shuffled: the first 100 training labels are class-mixed.
    expect(new Set(ds.train.y.subarray(0, 100)).size).toBe(10);
  });

  it('holds the official first training image (ankle boot), and no image in both train and test', () => {
    // A row of the official train[0]: "0 0 0 0 0 0 0 0 0 0 0 0 1 0 0 13 73 0 0 1 4 0 0 0 0 1 1 0".
    const row = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 13, 73, 0, 0, 1, 4, 0, 0, 0, 0, 1, 1, 0];
    let found = -1;
    for (let i = 0; i < ds.train.n + ds.test.n && found < 0; i++) {
      const s = i < ds.train.n ? ds.train : ds.test;
      const k = i < ds.train.n ? i : i - ds.train.n;
      if (s.x[k * 784 + 3 * 28 + 16] !== 73) continue;
      if (row.every((v, j) => s.x[k * 784 + 3 * 28 + j] === v)) found = i;
    }
    expect(found).toBeGreaterThanOrEqual(0);
    const label = found < ds.train.n ? ds.train.y[found] : ds.test.y[found - ds.train.n];
    expect(label).toBe(9);

    const trainKeys = new Set<string>();
    for (let i = 0; i < ds.train.n; i++) trainKeys.add(rowKey(ds.train.x, i));
    let shared = 0;
    for (let i = 0; i < ds.test.n; i++) if (trainKeys.has(rowKey(ds.test.x, i))) shared++;
    expect(shared).toBe(0);
  });

  it('differs from MNIST', async () => {
    const mnist = await loadDataset('mnist', { source: nodeSource() });
    expect(ds.test.x.subarray(0, 784)).not.toEqual(mnist.test.x.subarray(0, 784));
  });
});

describe('splitFashionMnist (the prepare step split, on tiny data)', () => {
  // 3 classes x 5 rows of 784 bytes; row value = 10 * class + row, except a duplicate pair.
  const classes = [0, 1, 2].map((c) => {
    const rows = new Uint8Array(5 * 784);
    for (let i = 0; i < 5; i++) rows.fill(10 * c + i + 1, i * 784, (i + 1) * 784);
    return rows;
  });
  classes[2]!.fill(1, 4 * 784, 5 * 784); // class 2 row 4 duplicates class 0 row 0

  it('is deterministic, stratified, and keeps duplicates out of test', () => {
    const a = splitFashionMnist(classes, { seed: 1, testPerClass: 2 });
    const b = splitFashionMnist(classes, { seed: 1, testPerClass: 2 });
    const c = splitFashionMnist(classes, { seed: 2, testPerClass: 2 });
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.trainY.length).toBe(9);
    expect(a.testY.length).toBe(6);
    expect([0, 1, 2].map((k) => a.testY.filter((y) => y === k).length)).toEqual([2, 2, 2]);
    for (const s of [a, b, c]) {
      const testValues = Array.from({ length: s.testY.length }, (_, i) => s.testX[i * 784]);
      expect(testValues).not.toContain(1); // the duplicated image is in train only
    }
  });
});
