/**
 * Seeded, shape-stable training.
 *
 * `fitSeeded` runs its own loop instead of `model.fit`/`model.trainOnBatch`:
 * - `fit({shuffle: true})` shuffles with `Math.random`; we shuffle with our `Rng`.
 * - a tfjs `Dropout` layer either reuses one mask (seeded) or draws from `Math.random`
 *   (unseeded); we run the layers by hand with a fresh seeded mask per step (see forward.ts).
 * - `trainOnBatch` (and `fit`'s end-of-call `History.syncData`) reads the loss back every batch;
 *   we keep running sums on the device and read two numbers once per epoch.
 * Each step is `optimizer.minimize` over the model's trainable weights, with the loss the
 * factories compile (layers' categorical cross-entropy, mean over the batch). Regularisation
 * losses are not added (no registered model has any).
 *
 * Shape stability: every batch has exactly `batchSize` rows, so WebGL compiles its programs once
 * however the labeled set grows. See `epochBatches` for how the rows are chosen.
 *
 * From scratch each round: re-create the model (`disposeModel` + `createModel` with that round's
 * rng, see models/index.ts) rather than resetting weights; this also resets Adam's state.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../src/rng.ts';
import { runLayers, sequentialLayers } from './forward.ts';

/** One training batch. Both tensors are new; `fitSeeded` disposes them after the step. */
export interface Batch {
  /** [B, ...inputShape], float32. */
  x: tf.Tensor;
  /** [B, C] one-hot, float32. */
  y: tf.Tensor;
}

/** The labeled set as the trainer sees it. */
export interface TrainingSet {
  /** Dataset indices of the labeled examples (order does not matter). */
  indices: Int32Array;
  /** Builds x and one-hot y for these dataset indices (always `batchSize` of them). */
  batch(indices: Int32Array): Batch;
}

/** Plain numbers after each epoch (no tensors). */
export interface EpochLog {
  /** 0-based epoch number. */
  epoch: number;
  /** Mean training cross-entropy over the epoch's batches (dropout active, weights changing). */
  loss: number;
  /** Training accuracy over the epoch's rows, filler rows included (dropout active). */
  acc: number;
  /** Number of optimizer steps in the epoch. */
  batches: number;
}

export interface FitOptions {
  /** Drives the per-epoch shuffles, the filler rows and the dropout masks. */
  rng: Rng;
  epochs: number;
  batchSize: number;
  /**
   * Checked before every batch. When aborted, `fitSeeded` rejects with `signal.reason` (a
   * DOMException named 'AbortError' unless the caller gave another reason), after disposing its
   * tensors; the model keeps the weights of the last completed step.
   */
  signal?: AbortSignal;
  /** Called after each epoch with plain numbers; awaited if it returns a promise. */
  onEpochEnd?: (log: EpochLog) => void | Promise<void>;
  /**
   * Yield to the event loop (MessageChannel, else setTimeout 0; never requestAnimationFrame,
   * which stalls in hidden tabs) when this many milliseconds have passed since the last yield.
   * 0 yields after every batch. @default 16
   */
  yieldIntervalMs?: number;
}

export interface FitResult {
  /** One entry per completed epoch. */
  history: EpochLog[];
}

/** Thrown for invalid training inputs (empty labeled set, wrong batch shape...). */
export class TrainingError extends Error {
  override readonly name = 'TrainingError';
}

/**
 * The batches of one epoch, each exactly `batchSize` dataset indices.
 *
 * The labeled set is shuffled with `rng` and cut into ceil(n / batchSize) batches. The rows
 * missing from the last batch are filled with rows of the labeled set drawn from a fresh random
 * permutation of it, cycling through new permutations if needed. So with n >= batchSize the last
 * batch is topped up with distinct, randomly drawn labeled rows (which may repeat rows already in
 * it); with n < batchSize the single batch is the labeled set repeated: every example appears
 * floor(batchSize / n) or ceil(batchSize / n) times.
 *
 * @example
 *   epochBatches(Int32Array.of(10, 11, 12), 4, new Rng(1)); // e.g. [[12, 10, 11, 11]]
 */
export function epochBatches(indices: Int32Array, batchSize: number, rng: Rng): Int32Array[] {
  const n = indices.length;
  if (n === 0) throw new TrainingError('the labeled set is empty');
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new TrainingError(`batchSize must be a positive integer, got ${batchSize}`);
  const numBatches = Math.ceil(n / batchSize);
  const flat = new Int32Array(numBatches * batchSize);
  let k = 0;
  let perm = rng.permutation(n);
  for (let i = 0; i < n; i++) flat[k++] = indices[perm[i]!]!;
  while (k < flat.length) {
    perm = rng.permutation(n);
    for (let i = 0; i < n && k < flat.length; i++) flat[k++] = indices[perm[i]!]!;
  }
  const batches: Int32Array[] = [];
  for (let b = 0; b < numBatches; b++) batches.push(flat.subarray(b * batchSize, (b + 1) * batchSize));
  return batches;
}

const training = new WeakSet<tf.LayersModel>();

/**
 * Train `model` in place for `epochs` epochs of shape-stable batches (see `epochBatches`).
 * Deterministic: the same model weights, data and `rng` seed give the same weights afterwards
 * (on a given backend). `rng` is used through `fork('shuffle')` and `fork('dropout')`, so the
 * caller's stream advances by two draws.
 *
 * @example
 *   const model = createModel('mlp', { inputShape: [784], numClasses: 10, rng: rng.fork('init') });
 *   const { history } = await fitSeeded(model, { indices: labeled, batch: (idx) => pool.batch(idx) },
 *     { rng: rng.fork('fit'), epochs: 20, batchSize: 64, onEpochEnd: (l) => console.log(l.loss) });
 */
export async function fitSeeded(model: tf.LayersModel, data: TrainingSet, opts: FitOptions): Promise<FitResult> {
  const layers = sequentialLayers(model, 'fitSeeded');
  const optimizer = model.optimizer as tf.Optimizer | undefined;
  if (!optimizer) throw new TrainingError(`fitSeeded: model '${model.name}' is not compiled`);
  if (model.loss !== 'categoricalCrossentropy') {
    throw new TrainingError(`fitSeeded: model '${model.name}' must be compiled with loss 'categoricalCrossentropy', got ${String(model.loss)}`);
  }
  const { epochs, batchSize, signal } = opts;
  if (!Number.isInteger(epochs) || epochs < 0) throw new TrainingError(`epochs must be a non-negative integer, got ${epochs}`);
  if (!Number.isInteger(batchSize) || batchSize <= 0) throw new TrainingError(`batchSize must be a positive integer, got ${batchSize}`);
  if (data.indices.length === 0) throw new TrainingError('fitSeeded: the labeled set is empty');
  if (training.has(model)) throw new TrainingError(`fitSeeded: model '${model.name}' is already training`);
  const yieldIntervalMs = opts.yieldIntervalMs ?? 16;
  const shuffleRng = opts.rng.fork('shuffle');
  const dropoutRng = opts.rng.fork('dropout');
  const numClasses = layers[layers.length - 1]!.outputShape.at(-1) as number;

  signal?.throwIfAborted();
  training.add(model);
  const history: EpochLog[] = [];
  let lastYield = now();
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const batches = epochBatches(data.indices, batchSize, shuffleRng);
      let lossSum: tf.Tensor | null = null;
      let correct: tf.Tensor | null = null;
      try {
        for (const idx of batches) {
          signal?.throwIfAborted();
          const step = trainStep(model, layers, optimizer, data.batch(idx), batchSize, numClasses, dropoutRng);
          const [nextLoss, nextCorrect] = tf.tidy(() => [
            lossSum ? tf.add(lossSum, step.loss) : step.loss.clone(),
            correct ? tf.add(correct, step.correct) : step.correct.clone(),
          ]);
          tf.dispose([step.loss, step.correct, lossSum, correct].filter((t): t is tf.Tensor => t !== null));
          lossSum = nextLoss!;
          correct = nextCorrect!;
          if (now() - lastYield >= yieldIntervalMs) {
            await yieldToEventLoop();
            lastYield = now();
          }
        }
        // The one readback of the epoch: [loss sum, correct count].
        const packed = tf.stack([lossSum!, correct!]);
        const [l, a] = await packed.data();
        packed.dispose();
        const log: EpochLog = { epoch, loss: l! / batches.length, acc: a! / (batches.length * batchSize), batches: batches.length };
        history.push(log);
      } finally {
        tf.dispose([lossSum, correct].filter((t): t is tf.Tensor => t !== null));
      }
      // Not a yield: a promise that onEpochEnd returns may settle in a microtask. Epochs shorter
      // than yieldIntervalMs still yield, every few epochs, on the clock of the last real yield.
      await opts.onEpochEnd?.(history[history.length - 1]!);
    }
  } finally {
    training.delete(model);
  }
  return { history };
}

/** One optimizer step; disposes the batch. Returns the batch's mean loss and correct count. */
function trainStep(
  model: tf.LayersModel,
  layers: tf.layers.Layer[],
  optimizer: tf.Optimizer,
  batch: Batch,
  batchSize: number,
  numClasses: number,
  dropoutRng: Rng,
): { loss: tf.Scalar; correct: tf.Scalar } {
  const { x, y } = batch;
  const kept: { correct?: tf.Scalar } = {};
  try {
    if (x.shape[0] !== batchSize || y.shape[0] !== batchSize || y.rank !== 2 || y.shape[1] !== numClasses) {
      throw new TrainingError(
        `batch(indices) must return x [${batchSize}, ...] and one-hot y [${batchSize}, ${numClasses}]; ` +
          `got x [${x.shape.join(', ')}], y [${y.shape.join(', ')}]`,
      );
    }
    const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
    const loss = optimizer.minimize(
      () => {
        const probs = runLayers(layers, x, 0, layers.length, dropoutRng); // [B, C]
        kept.correct = tf.keep(tf.sum<tf.Tensor>(tf.metrics.categoricalAccuracy(y, probs))) as tf.Scalar;
        return tf.mean(tf.metrics.categoricalCrossentropy(y, probs)) as tf.Scalar;
      },
      true,
      vars,
    )!;
    return { loss, correct: kept.correct! };
  } catch (err) {
    kept.correct?.dispose();
    throw err;
  } finally {
    x.dispose();
    y.dispose();
  }
}

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** A macrotask yield that is not throttled like requestAnimationFrame in hidden tabs. */
export function yieldToEventLoop(): Promise<void> {
  if (typeof MessageChannel === 'undefined') return new Promise((r) => setTimeout(r, 0));
  return new Promise((resolve) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => {
      ch.port1.close();
      resolve();
    };
    ch.port2.postMessage(null);
  });
}
