/**
 * The in-memory shape of every dataset, and the only two places where CPU rows become tensors.
 *
 * Pixels stay `Uint8Array` (0..255) on the CPU; `batchTensor` scales them to [0, 1] float32 while
 * building the batch, in a single `tf.tensor` call (no intermediate tensors, nothing to leak).
 */
import * as tf from '@tensorflow/tfjs';
import type { DatasetKind, DatasetName } from './catalog.ts';
import type { Split } from './split.ts';

export type { DatasetKind };

export type { Split } from './split.ts';

export interface Dataset<N extends string = DatasetName> {
  name: N;
  /** Shape of one example, e.g. [28, 28, 1] or [2]. */
  shape: number[];
  numClasses: number;
  classNames: string[];
  train: Split;
  test: Split;
  kind: DatasetKind;
  /**
   * True for a dataset whose labels are unknown (an image folder without class folders, labeled in
   * "Label it yourself"): `train.y` holds no truth and the engine never reads it (the initial set is
   * drawn at random and labeled by the oracle, nothing agrees or disagrees), and `test` is empty,
   * so no round is evaluated (accuracy, loss and ECE are null).
   */
  unlabeled?: boolean;
}

/** Number of values in one row of `split` (the product of the example shape). */
export function rowSize(split: Split): number {
  if (split.n === 0) return 0;
  const d = split.x.length / split.n;
  if (!Number.isInteger(d) || split.y.length !== split.n) {
    throw new RangeError(`malformed Split: x.length ${split.x.length}, y.length ${split.y.length}, n ${split.n}`);
  }
  return d;
}

function checkIndices(indices: ArrayLike<number>, n: number, what: string): void {
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i]!;
    if (!Number.isInteger(j) || j < 0 || j >= n) {
      throw new RangeError(`${what}: index ${j} at position ${i} is out of range 0..${n - 1}`);
    }
  }
}

export interface BatchOptions {
  /** Example shape; the tensor is `[k, ...shape]`. Default: flat `[k, rowSize]`. Pass `dataset.shape` for images. */
  shape?: readonly number[];
  /** Multiplier for Uint8Array data; default 1/255 (Float32Array data is never scaled). */
  scale?: number;
}

/**
 * The rows `indices` of `split` as a float32 tensor `[k, ...shape]`, uint8 pixels scaled to [0, 1].
 * Gathered on the CPU and uploaded with one `tf.tensor` call. The caller owns (disposes) it.
 */
export function batchTensor(split: Split, indices: Int32Array | readonly number[], opts: BatchOptions = {}): tf.Tensor {
  const d = rowSize(split);
  const shape = opts.shape ?? [d];
  const prod = shape.reduce((a, b) => a * b, 1);
  if (prod !== d) throw new RangeError(`batchTensor: shape [${shape.join(', ')}] has ${prod} values, rows have ${d}`);
  checkIndices(indices, split.n, 'batchTensor');
  const k = indices.length;
  const out = new Float32Array(k * d);
  const x = split.x;
  if (x instanceof Uint8Array) {
    const scale = opts.scale ?? 1 / 255;
    for (let i = 0; i < k; i++) {
      const src = indices[i]! * d;
      const dst = i * d;
      for (let j = 0; j < d; j++) out[dst + j] = x[src + j]! * scale;
    }
  } else {
    for (let i = 0; i < k; i++) out.set(x.subarray(indices[i]! * d, (indices[i]! + 1) * d), i * d);
  }
  return tf.tensor(out, [k, ...shape], 'float32');
}

/** One-hot float32 labels `[k, numClasses]` for the rows `indices`. The caller owns (disposes) it. */
export function labelsOneHot(split: Split, indices: Int32Array | readonly number[], numClasses: number): tf.Tensor2D {
  if (!Number.isInteger(numClasses) || numClasses < 1) throw new RangeError(`labelsOneHot: bad numClasses ${numClasses}`);
  checkIndices(indices, split.n, 'labelsOneHot');
  const k = indices.length;
  const out = new Float32Array(k * numClasses);
  for (let i = 0; i < k; i++) {
    const c = split.y[indices[i]!]!;
    if (c >= numClasses) throw new RangeError(`labelsOneHot: label ${c} of row ${indices[i]} is not below numClasses ${numClasses}`);
    out[i * numClasses + c] = 1;
  }
  return tf.tensor2d(out, [k, numClasses], 'float32');
}

/** A new Split holding copies of the rows `indices` (CPU only, same x type). */
export function gatherRows(split: Split, indices: Int32Array | readonly number[]): Split {
  const d = rowSize(split);
  checkIndices(indices, split.n, 'gatherRows');
  const k = indices.length;
  const x = split.x instanceof Uint8Array ? new Uint8Array(k * d) : new Float32Array(k * d);
  const y = new Uint8Array(k);
  for (let i = 0; i < k; i++) {
    const j = indices[i]!;
    x.set(split.x.subarray(j * d, (j + 1) * d), i * d);
    y[i] = split.y[j]!;
  }
  return { x, y, n: k };
}

/** Count of each class in `split.y` (length numClasses). */
export function classCounts(split: Split, numClasses: number): number[] {
  const counts = new Array<number>(numClasses).fill(0);
  for (let i = 0; i < split.n; i++) {
    const c = split.y[i]!;
    if (c >= numClasses) throw new RangeError(`classCounts: label ${c} at row ${i} is not below numClasses ${numClasses}`);
    counts[c]!++;
  }
  return counts;
}
