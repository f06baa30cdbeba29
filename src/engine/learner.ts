/**
 * The learner: what the loop needs from a model, and nothing else. The loop receives a
 * factory of learners, so tests can hand it a mock that returns fixed probabilities.
 *
 * Tensors returned by a learner belong to the caller (the loop disposes them).
 */
import * as tf from '@tensorflow/tfjs';
import { batchTensor, labelsOneHot, rowSize, type Dataset, type Split } from '../../datasets/index.ts';
import { createModel, disposeModel, MODELS, type ModelName } from '../../models/index.ts';
import { exportModel, type ModelExport } from '../../models/export.ts';
import { embed, evaluateProbs, predictLogits, predictMcDropout, predictProbs, type Evaluation } from '../../models/predict.ts';
import { applyTemperature, expectedCalibrationError } from '../acquisition/calibration.ts';
import { fitSeeded, type EpochLog } from '../../models/train.ts';
import type { Rng } from '../rng.ts';
import type { AddedExample } from './oracle.ts';
import type { DatasetRows } from './rows.ts';
import { trainingEpochs } from './config.ts';

export interface FitContext {
  /** This round's training stream (initialisation when training from scratch, shuffles, dropout). */
  rng: Rng;
  signal?: AbortSignal;
  /** Called after each epoch; awaited (the loop pauses here when the user pauses mid-training). */
  onEpoch?: (log: EpochLog) => void | Promise<void>;
  /**
   * Labeled examples that are not dataset rows (e.g. drawn digits, `RoundRecord.added`), trained on
   * with the rows: the training set is the rows, in order, then these. Absent: none.
   */
  added?: readonly AddedExample[];
}

export interface Learner {
  /** Trains on these train-split rows and `ctx.added` (from scratch, or from the current weights on warm start). */
  fit(labeled: DatasetRows, ctx: FitContext): Promise<void>;
  /** [N, C] softmax probabilities of these train-split rows. */
  predictProbs(indices: DatasetRows): tf.Tensor2D;
  /** [N, C] logits (pre-softmax) of these train-split rows, for temperature scaling. */
  predictLogits(indices: DatasetRows): tf.Tensor2D;
  /**
   * [T, N, C] MC-dropout logits (pre-softmax), a fresh mask per pass: the strategies and the
   * temperature work from them, as the single-pass path does from `predictLogits`. With
   * `consistent`, pass t uses one dropout mask for every row (one weight sample ω_t for the pool;
   * `predictMcDropout`'s option), as joint predictions need.
   */
  predictMcLogits(indices: DatasetRows, samples: number, rng: Rng, options?: { consistent?: boolean }): tf.Tensor3D;
  /** [N, D] penultimate activations of these rows, then (N + A rows) of the `added` examples (those of the labeled set that are not dataset rows). */
  embed(indices: DatasetRows, added?: readonly AddedExample[]): tf.Tensor2D;
  /** [N, D] flattened raw inputs, for model-free strategies. */
  inputs(indices: DatasetRows): tf.Tensor2D;
  /** [G, C] probabilities for arbitrary inputs [G, ...shape] (e.g. a grid over a 2-D dataset); x stays the caller's. */
  predictOn(x: tf.Tensor): tf.Tensor2D;
  /**
   * Accuracy, cross-entropy, confusion and expected calibration error (15 bins) on the evaluation
   * rows of the test split; with `temperature`, also the ECE of the temperature-scaled model.
   */
  evaluate(temperature?: number): Promise<TestEvaluation>;
  /**
   * The current model as plain data (TensorFlow.js artifacts, `models/export.ts`), with
   * `metadata` written into its model.json; creates no tensors. Optional: a learner without it
   * (a test's mock) has no model to export.
   */
  exportModel?(metadata: Record<string, object>): Promise<ModelExport>;
  dispose(): void;
}

export interface TestEvaluation extends Evaluation {
  /** Expected calibration error of the model's probabilities (15 equal-width bins). */
  ece: number;
  /** ECE after dividing the logits by the given temperature; null without one. */
  calibratedEce: number | null;
}

export interface LearnerContext {
  dataset: Dataset<string>;
  /** Test-split rows to evaluate on. */
  testIndices: Int32Array;
  strategy: string;
  repeat: number;
}

export type LearnerFactory = (ctx: LearnerContext) => Learner;

export interface TfLearnerOptions {
  model: ModelName;
  epochs: number;
  /** At least this many optimizer steps per fit (`trainingEpochs`); 0 = `epochs` only. @default 0 */
  minSteps?: number;
  batchSize: number;
  learningRate: number | null;
  warmStart: boolean;
  chunkSize: number;
}

/**
 * A learner backed by a tfjs model from the `models/` registry. From scratch (the default), each
 * `fit` builds a fresh model whose initial weights come from the round's rng; with `warmStart`
 * the first model is kept and trained further each round.
 */
export function tfLearner(options: TfLearnerOptions): LearnerFactory {
  return ({ dataset, testIndices }) => {
    let model: tf.Sequential | null = null;
    const shape = dataset.shape;
    const trainX = (idx: Int32Array) => batchTensor(dataset.train, idx, { shape });
    const testX = (idx: Int32Array) => batchTensor(dataset.test, idx, { shape });
    const testLabels = Uint8Array.from(testIndices, (i) => dataset.test.y[i]!);
    const chunk = { chunkSize: options.chunkSize };
    const current = (): tf.Sequential => {
      if (!model) throw new Error('learner: predict or evaluate called before the first fit');
      return model;
    };
    return {
      async fit(labeled, ctx) {
        if (!model || !options.warmStart) {
          if (model) disposeModel(model);
          model = null;
          model = createModel(options.model, {
            inputShape: shape,
            numClasses: dataset.numClasses,
            rng: ctx.rng,
            ...(options.learningRate !== null ? { learningRate: options.learningRate } : {}),
          });
        }
        // With added examples, the training set is a small split of the rows then the added ones,
        // indexed 0..k-1: the same batches, position for position, as the rows themselves would give.
        const set = ctx.added?.length ? withAdded(dataset.train, labeled, ctx.added) : null;
        await fitSeeded(model, set ? {
          indices: Int32Array.from({ length: set.n }, (_, i) => i),
          batch: (idx) => ({ x: batchTensor(set, idx, { shape }), y: labelsOneHot(set, idx, dataset.numClasses) }),
        } : {
          indices: labeled,
          batch: (idx) => ({ x: trainX(idx), y: labelsOneHot(dataset.train, idx, dataset.numClasses) }),
        }, {
          rng: ctx.rng,
          epochs: trainingEpochs(labeled.length, { epochs: options.epochs, batchSize: options.batchSize, minSteps: options.minSteps ?? 0 }),
          batchSize: options.batchSize,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
          ...(ctx.onEpoch ? { onEpochEnd: ctx.onEpoch } : {}),
        });
      },
      predictProbs: (idx) => predictProbs(current(), trainX, idx, chunk),
      predictLogits: (idx) => predictLogits(current(), trainX, idx, chunk),
      predictMcLogits: (idx, samples, rng, mc) => predictMcDropout(current(), trainX, idx, { ...chunk, samples, rng, logits: true, consistent: mc?.consistent === true }),
      embed: (idx, added) => {
        if (!added?.length) return embed(current(), trainX, idx, chunk);
        const set = withAdded(dataset.train, idx, added);
        return embed(current(), (i) => batchTensor(set, i, { shape }), Int32Array.from({ length: set.n }, (_, i) => i), chunk);
      },
      inputs: (idx) => tf.tidy(() => {
        const x = batchTensor(dataset.train, idx);
        return x.reshape([idx.length, -1]) as tf.Tensor2D;
      }),
      predictOn: (x) => tf.tidy(() => current().predict(x) as tf.Tensor2D),
      async evaluate(temperature) {
        const logits = predictLogits(current(), testX, testIndices, chunk); // [Ntest, C]
        const probs = tf.tidy(() => tf.softmax(logits, -1)) as tf.Tensor2D;
        try {
          const ev = await evaluateProbs(probs, testLabels);
          const { ece } = await expectedCalibrationError(probs, testLabels);
          let calibratedEce: number | null = null;
          if (temperature !== undefined) {
            const scaled = applyTemperature(logits, temperature, { fromLogits: true });
            calibratedEce = (await expectedCalibrationError(scaled, testLabels).finally(() => scaled.dispose())).ece;
          }
          return { ...ev, ece, calibratedEce };
        } finally {
          logits.dispose();
          probs.dispose();
        }
      },
      exportModel: (metadata) => exportModel(current(), metadata),
      dispose() {
        if (model) disposeModel(model);
        model = null;
      },
    };
  };
}

/** A split of the train rows `rows` (their labels as the run knows them) followed by the `added` examples. */
function withAdded(train: Split, rows: DatasetRows, added: readonly AddedExample[]): Split {
  const tx = train.x;
  if (!(tx instanceof Uint8Array)) throw new RangeError('added examples need a dataset of uint8 pixels');
  const d = rowSize(train);
  const n = rows.length + added.length;
  const x = new Uint8Array(n * d);
  const y = new Uint8Array(n);
  rows.forEach((r, k) => {
    x.set(tx.subarray(r * d, (r + 1) * d), k * d);
    y[k] = train.y[r]!;
  });
  added.forEach((e, j) => {
    if (e.pixels.length !== d) throw new RangeError(`added example ${j} has ${e.pixels.length} values, rows have ${d}`);
    x.set(e.pixels, (rows.length + j) * d);
    y[rows.length + j] = e.label;
  });
  return { x, y, n };
}

/** Whether a model spec can give MC samples that differ between passes. */
export function modelHasDropout(name: ModelName): boolean {
  return MODELS[name].hasDropout;
}
