/**
 * Chunked, shape-stable inference: probabilities, logits, MC-dropout samples, embeddings and
 * test metrics. Everything but `evaluate` returns a tensor that stays on the device and that the
 * caller owns (dispose it).
 *
 * Chunking and padding: `indices` are processed `chunkSize` at a time. The last chunk is padded
 * to `chunkSize` by repeating its last index, and the padding rows are sliced off its output, so
 * every forward pass sees the same input shape (WebGL compiles one program per shape; textures
 * stay under the max texture size). A short list is padded too: 10 indices with chunkSize 256
 * run one batch of 256. Each chunk's intermediates are freed as it finishes; the chunk outputs
 * are concatenated at the end.
 *
 * The input provider `batch(indices)` returns a new [chunkSize, ...inputShape] float32 tensor,
 * which these functions dispose.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/rng.ts';
import { EMBEDDING_LAYER, LOGITS_LAYER, PROBS_LAYER } from './index.ts';
import { isDropout, layerIndex, ModelStructureError, outputWidth, runLayers, sequentialLayers } from './forward.ts';

export { ModelStructureError } from './forward.ts';

/** Model inputs for the given dataset indices: a new tensor [indices.length, ...inputShape]. */
export type InputBatch = (indices: Int32Array) => tf.Tensor;

export interface ChunkOptions {
  /** Rows per forward pass. @default 256 */
  chunkSize?: number;
}

export interface McDropoutOptions extends ChunkOptions {
  /** Number of stochastic passes T. */
  samples: number;
  /** Seeds the dropout masks; advanced by exactly one draw (`fork('mc-dropout')`). */
  rng: Rng;
  /**
   * Return each pass's pre-softmax logits (the output of the layer named 'logits') instead of
   * its softmax: the same masks, so softmax of the result equals the default output up to
   * rounding. Measures and temperature scaling then work from exact log-probabilities, which
   * float16 textures cannot hold as probabilities (a class below ~6e-5 rounds to 0). @default false
   */
  logits?: boolean;
  /**
   * One weight sample per pass for all rows: pass t drops the same units (the same channels) of
   * every row, in every chunk, so the T passes are T sampled networks ω_1..ω_T applied to the
   * whole pool, as the BatchBALD authors' consistent MC dropout does. Joint predictions of several
   * rows (BatchBALD's p(y_1, ..., y_n) = mean_t Π_i p(y_i | ω_t)) need this; with a fresh mask per
   * row (the default, as Keras' MC dropout in Gal et al.), rows share no ω and their joint
   * predictions tend to the product of the marginals. Per-row scores (BALD, entropy, ...) have the
   * same expectation either way. @default false
   */
  consistent?: boolean;
}

export interface Evaluation {
  /** Fraction of rows whose argmax (ties: lowest class) equals the label. */
  accuracy: number;
  /** Mean cross-entropy, -mean log p(true class), with p clipped to [1e-7, 1]. */
  loss: number;
  /** Number of rows evaluated. */
  n: number;
  numClasses: number;
  /** Counts, row-major [true class][predicted class], length numClasses^2. */
  confusion: Int32Array;
}

export const DEFAULT_CHUNK_SIZE = 256;
const EPSILON = 1e-7;

/**
 * Softmax probabilities [N, C] for `indices`, in input order. Works for any LayersModel with one
 * softmax output (it calls `model.predict` on each chunk, with dropout off).
 *
 * @example
 *   const probs = predictProbs(model, (idx) => pool.images(idx), poolIndices); // [N, C]
 *   // ... use on the device ...
 *   probs.dispose();
 */
export function predictProbs(model: tf.LayersModel, batch: InputBatch, indices: Int32Array, opts: ChunkOptions = {}): tf.Tensor2D {
  const chunkSize = checkChunkSize(opts.chunkSize);
  const width = model.outputs[0]!.shape.at(-1) as number;
  return mapChunks('predictProbs', indices, batch, chunkSize, [width], 0, (x, rows) => {
    const p = model.predict(x, { batchSize: chunkSize }) as tf.Tensor; // [chunk, C]
    return rows < chunkSize ? tf.slice(p, 0, rows) : p;
  }) as tf.Tensor2D;
}

/**
 * Pre-softmax logits [N, C]: the output of the layer named 'logits' (every registered model has
 * one), dropout off. `tf.softmax(logits)` equals `predictProbs` up to rounding.
 *
 * @example
 *   const z = predictLogits(model, batch, idx); const h = entropyFromLogits(z); z.dispose();
 */
export function predictLogits(model: tf.LayersModel, batch: InputBatch, indices: Int32Array, opts: ChunkOptions = {}): tf.Tensor2D {
  return layerOutput('predictLogits', model, LOGITS_LAYER, batch, indices, opts);
}

/**
 * Penultimate activations [N, D]: the output of the layer named 'embedding', flattened, dropout
 * off. For the cnn D = 128; for the mlp D = hidden; for logreg it is the flattened input.
 *
 * @example
 *   const e = embed(model, batch, poolIndices); // [N, 128] for the cnn
 */
export function embed(model: tf.LayersModel, batch: InputBatch, indices: Int32Array, opts: ChunkOptions = {}): tf.Tensor2D {
  return layerOutput('embed', model, EMBEDDING_LAYER, batch, indices, opts);
}

/**
 * Monte Carlo dropout: T softmax outputs [T, N, C] (or, with `logits: true`, the T passes'
 * logits), each with dropout active and a fresh,
 * seeded mask (independent per pass, per dropout layer and per row). Same `rng` seed, model,
 * inputs and chunkSize -> identical result. The layers before the first dropout layer (the
 * convolutions of the cnn) run once per chunk and are shared by the T passes. A model without
 * dropout returns T identical copies of its prediction.
 *
 * Mechanism: the Sequential model's layers are run by hand, each Dropout layer replaced by
 * `tf.dropout(h, rate, noiseShape, seed)` with a per-pass seed from `rng` (a seeded tfjs Dropout
 * layer would reuse one mask; see models/forward.ts).
 *
 * @example
 *   const mc = predictMcDropout(model, batch, poolIndices, { samples: 20, rng: rng.fork('bald') });
 *   // mc: [20, N, C]; BALD = H(mean_t p) - mean_t H(p_t)
 */
export function predictMcDropout(model: tf.LayersModel, batch: InputBatch, indices: Int32Array, opts: McDropoutOptions): tf.Tensor3D {
  const chunkSize = checkChunkSize(opts.chunkSize);
  const T = opts.samples;
  if (!Number.isInteger(T) || T <= 0) throw new RangeError(`predictMcDropout: samples must be a positive integer, got ${T}`);
  const layers = sequentialLayers(model, 'predictMcDropout');
  const rng = opts.rng.fork('mc-dropout');
  const firstDropout = layers.findIndex(isDropout);
  const split = firstDropout < 0 ? layers.length : firstDropout;
  const width = outputWidth(layers[layers.length - 1]!);
  let end = layers.length;
  if (opts.logits === true) {
    end = layerIndex(layers, PROBS_LAYER, 'predictMcDropout');
    if (end !== layers.length - 1) throw new ModelStructureError(`predictMcDropout: logits need the softmax layer '${PROBS_LAYER}' last`);
  }
  const prefix = Math.min(split, end);
  // Consistent: each pass's masks come from its own seed, replayed in every chunk (with a mask of
  // batch size 1, broadcast over the rows).
  const passSeeds = opts.consistent === true ? Array.from({ length: T }, () => rng.uint32()) : null;
  return mapChunks('predictMcDropout', indices, batch, chunkSize, [T, width], 1, (x, rows) => {
    const shared = runLayers(layers, x, 0, prefix, null); // deterministic prefix, once per chunk
    const passes: tf.Tensor[] = [];
    for (let t = 0; t < T; t++) {
      passes.push(passSeeds ? runLayers(layers, shared, prefix, end, new Rng(passSeeds[t]!), { sharedMask: true }) : runLayers(layers, shared, prefix, end, rng)); // [chunk, C]
    }
    const stacked = tf.stack(passes); // T x [chunk, C] -> [T, chunk, C]
    return rows < chunkSize ? tf.slice(stacked, [0, 0, 0], [T, rows, width]) : stacked;
  }) as tf.Tensor3D;
}

/**
 * Test-set metrics, computed on the device and read back once (2 + C*C numbers).
 * `labels[i]` is the true class of `indices[i]` (same length).
 *
 * @example
 *   const { accuracy, loss } = await evaluate(model, testBatch, testIdx, testLabels);
 */
export async function evaluate(
  model: tf.LayersModel,
  batch: InputBatch,
  indices: Int32Array,
  labels: Uint8Array,
  opts: ChunkOptions = {},
): Promise<Evaluation> {
  const n = indices.length;
  if (n === 0) throw new RangeError('evaluate: no indices to evaluate');
  if (labels.length !== n) throw new RangeError(`evaluate: labels.length (${labels.length}) must equal indices.length (${n})`);
  const C = model.outputs[0]!.shape.at(-1) as number;
  for (let i = 0; i < n; i++) {
    if (labels[i]! >= C) throw new RangeError(`evaluate: labels[${i}] = ${labels[i]} is not a class of a ${C}-class model`);
  }
  const probs = predictProbs(model, batch, indices, opts); // [N, C]
  try {
    return await evaluateProbs(probs, labels);
  } finally {
    probs.dispose();
  }
}

/**
 * The metrics of `evaluate` from probabilities already on the device ([N, C], the caller keeps
 * them): accuracy, mean cross-entropy and confusion counts, read back once (2 + C*C numbers).
 */
export async function evaluateProbs(probs: tf.Tensor2D, labels: Uint8Array): Promise<Evaluation> {
  const [n, C] = probs.shape;
  if (n === 0) throw new RangeError('evaluate: no rows to evaluate');
  if (labels.length !== n) throw new RangeError(`evaluate: labels.length (${labels.length}) must equal the ${n} rows`);
  const packed = tf.tidy(() => {
    const yTrue = tf.tensor1d(Int32Array.from(labels), 'int32'); // [N]
    const trueOneHot = tf.cast(tf.oneHot(yTrue, C), 'float32'); // [N, C]
    const pTrue = tf.sum(tf.mul(probs, trueOneHot), 1); // [N, C] -> [N]
    const nll = tf.neg(tf.sum(tf.log(tf.clipByValue(pTrue, EPSILON, 1)))); // [N] -> []
    const pred = tf.argMax(probs, 1); // [N, C] -> [N]
    const correct = tf.sum(tf.cast(tf.equal(pred, yTrue), 'float32')); // [N] -> []
    const predOneHot = tf.cast(tf.oneHot(pred, C), 'float32'); // [N, C]
    const confusion = tf.matMul(trueOneHot, predOneHot, true, false); // [C, N] x [N, C] -> [C, C]
    return tf.concat([tf.stack([nll, correct]), tf.reshape(confusion, [-1])]); // [2 + C*C]
  });
  const v = await packed.data();
  packed.dispose();
  const confusion = new Int32Array(C * C);
  for (let i = 0; i < C * C; i++) confusion[i] = Math.round(v[2 + i]!);
  return { loss: v[0]! / n, accuracy: v[1]! / n, n, numClasses: C, confusion };
}

// ---------------------------------------------------------------------------------------------

function checkChunkSize(chunkSize: number | undefined): number {
  const c = chunkSize ?? DEFAULT_CHUNK_SIZE;
  if (!Number.isInteger(c) || c <= 0) throw new RangeError(`chunkSize must be a positive integer, got ${c}`);
  return c;
}

function layerOutput(what: string, model: tf.LayersModel, name: string, batch: InputBatch, indices: Int32Array, opts: ChunkOptions): tf.Tensor2D {
  const chunkSize = checkChunkSize(opts.chunkSize);
  const layers = sequentialLayers(model, what);
  const end = layerIndex(layers, name, what) + 1;
  const width = outputWidth(layers[end - 1]!);
  return mapChunks(what, indices, batch, chunkSize, [width], 0, (x, rows) => {
    const h = tf.reshape(runLayers(layers, x, 0, end, null), [chunkSize, width]); // [chunk, ...] -> [chunk, D]
    return rows < chunkSize ? tf.slice(h, 0, rows) : h;
  }) as tf.Tensor2D;
}

/** `indices[start .. start + size)`, padded to `size` by repeating the last real index. */
function paddedChunk(indices: Int32Array, start: number, size: number): Int32Array {
  const out = new Int32Array(size);
  const rows = Math.min(size, indices.length - start);
  out.set(indices.subarray(start, start + rows));
  out.fill(indices[start + rows - 1]!, rows);
  return out;
}

/**
 * Run `run(x, rows)` (inside tf.tidy) on every padded chunk and concatenate the outputs along
 * `axis`. `run` must drop the padding rows. For no indices, returns zeros of the output shape
 * with 0 rows (`restShape` gives the other dims, the row axis inserted at `axis`).
 */
function mapChunks(
  what: string,
  indices: Int32Array,
  batch: InputBatch,
  chunkSize: number,
  restShape: number[],
  axis: number,
  run: (x: tf.Tensor, rows: number) => tf.Tensor,
): tf.Tensor {
  if (!(indices instanceof Int32Array)) throw new TypeError(`${what}: indices must be an Int32Array`);
  if (indices.length === 0) {
    const shape = [...restShape];
    shape.splice(axis, 0, 0);
    return tf.zeros(shape);
  }
  const parts: tf.Tensor[] = [];
  try {
    for (let start = 0; start < indices.length; start += chunkSize) {
      const rows = Math.min(chunkSize, indices.length - start);
      const x = batch(paddedChunk(indices, start, chunkSize));
      try {
        if (x.shape[0] !== chunkSize) {
          throw new ModelStructureError(`${what}: batch(indices) returned ${x.shape[0]} rows for ${chunkSize} indices`);
        }
        parts.push(tf.tidy(() => run(x, rows)));
      } finally {
        x.dispose();
      }
    }
    if (parts.length === 1) return parts.pop()!;
    return tf.concat(parts, axis);
  } finally {
    tf.dispose(parts);
  }
}
