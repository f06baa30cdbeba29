/**
 * Model registry: the classifiers ActiveLab can train, as plain metadata plus a seeded factory.
 *
 * Every model is a `tf.Sequential` ending in two named layers, `'logits'` (dense, linear) and
 * `'probs'` (softmax), compiled with Adam and categorical cross-entropy. The layer whose output
 * is the feature vector for embedding-based strategies is named `'embedding'`. Kernels use
 * Glorot-uniform initialisers, each with its own seed drawn from `rng.fork('init')`; biases start
 * at zero (deterministic, so they need no seed). Same rng seed -> identical initial weights.
 *
 * From-scratch policy: to train from scratch each round, dispose the old model with
 * `disposeModel` and call `createModel` again with that round's rng (e.g. `rng.fork('round:3')`).
 * Re-creating is cheaper to get right than resetting weights in place: it also resets Adam's
 * moment estimates, which live in the optimizer, not the model.
 *
 * What each model is (description, input kinds, dropout, learning rate) is plain data in
 * `models/catalog.ts`; this registry adds the factory. Layering: imports tfjs, `src/rng.ts`,
 * `src/backend/fused-adam.ts` (Adam, one kernel per variable on wasm) and the catalog only.
 */
import * as tf from '@tensorflow/tfjs';
import { FusedAdam } from '../src/backend/fused-adam.ts';
import type { Rng } from '../src/rng.ts';
import { isModelName, MODEL_CATALOG, MODEL_NAMES, type InputKind, type ModelDescription, type ModelName, type TrainingDefaults } from './catalog.ts';

export { isModelName, MODEL_CATALOG, MODEL_NAMES };
export type { InputKind, ModelDescription, ModelName, TrainingDefaults };

type Initializer = ReturnType<typeof tf.initializers.glorotUniform>;

/** Name of the layer whose output `embed` returns (penultimate activations). */
export const EMBEDDING_LAYER = 'embedding';
/** Name of the dense layer whose output is the pre-softmax logits. */
export const LOGITS_LAYER = 'logits';
/** Name of the final softmax layer. */
export const PROBS_LAYER = 'probs';

/** Options every factory accepts. */
export interface BaseModelOptions {
  /** Per-example input shape, no batch axis: [H, W, C] for images, [D] for vectors. */
  inputShape: readonly number[];
  /** Number of classes (>= 2): the width of the softmax output. */
  numClasses: number;
  /** Seeds the initialisers. `createModel` advances it by exactly one draw (`fork('init')`). */
  rng: Rng;
  /** Adam learning rate. @default the spec's `defaults.learningRate` */
  learningRate?: number;
}

export interface MlpOptions extends BaseModelOptions {
  /** Width of the hidden (embedding) layer. @default 128 */
  hidden?: number;
  /** Dropout rate after the hidden layer. @default the catalog's (0.5) */
  dropout?: number;
}

/** A registered model: its catalog entry (plain data), plus the factory. */
export interface ModelSpec<O extends BaseModelOptions = BaseModelOptions> extends ModelDescription {
  /** Builds and compiles a fresh model. The caller owns it: release it with `disposeModel`. */
  create(options: O): tf.Sequential;
}

/** Thrown for a model name that is not in `MODELS`. */
export class UnknownModelError extends Error {
  override readonly name = 'UnknownModelError';
  constructor(readonly model: string) {
    super(`unknown model '${model}'; known: ${MODEL_NAMES.join(', ')}`);
  }
}

/** Thrown when options do not fit the architecture (bad shape, too small an image, ...). */
export class ModelOptionsError extends Error {
  override readonly name = 'ModelOptionsError';
}

// ---------------------------------------------------------------------------------------------

function check(cond: boolean, model: string, what: string): asserts cond {
  if (!cond) throw new ModelOptionsError(`${model}: ${what}`);
}

function checkCommon(model: string, o: BaseModelOptions, lr: number): void {
  check(
    Array.isArray(o.inputShape) && o.inputShape.length > 0 && o.inputShape.every((d) => Number.isInteger(d) && d > 0),
    model,
    `inputShape must be a non-empty list of positive integers, got ${JSON.stringify(o.inputShape)}`,
  );
  check(Number.isInteger(o.numClasses) && o.numClasses >= 2, model, `numClasses must be an integer >= 2, got ${o.numClasses}`);
  check(Number.isFinite(lr) && lr > 0, model, `learningRate must be positive, got ${lr}`);
}

/** Per-layer seeded initialisers: each call hands out a kernel initialiser with a new seed. */
function seededInit(rng: Rng): () => Initializer {
  const init = rng.fork('init');
  return () => tf.initializers.glorotUniform({ seed: init.tfSeed() });
}

/** The shared head: dense logits + softmax, then compile with Adam + cross-entropy. */
function finish(
  model: tf.Sequential,
  numClasses: number,
  kernel: () => Initializer,
  learningRate: number,
): tf.Sequential {
  model.add(tf.layers.dense({ name: LOGITS_LAYER, units: numClasses, kernelInitializer: kernel(), biasInitializer: 'zeros' }));
  model.add(tf.layers.activation({ name: PROBS_LAYER, activation: 'softmax' }));
  // tf.train.adam's maths and numbers, one wasm SIMD kernel per variable on wasm (src/backend/fused-adam.ts).
  model.compile({ optimizer: new FusedAdam(learningRate), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

/** First layer: flatten any input shape to [D] (tf.layers.flatten refuses rank-1 inputs). */
function flattenInput(name: string, inputShape: readonly number[]): tf.layers.Layer {
  const d = inputShape.reduce((a, b) => a * b, 1);
  return tf.layers.reshape({ name, targetShape: [d], inputShape: [...inputShape] });
}

const logreg: ModelSpec = {
  ...MODEL_CATALOG.logreg,
  create(o) {
    const lr = o.learningRate ?? logreg.defaults.learningRate;
    checkCommon('logreg', o, lr);
    const kernel = seededInit(o.rng);
    const model = tf.sequential({ name: 'logreg' });
    // The "penultimate activation" of a linear model is its (flattened) input.
    model.add(flattenInput(EMBEDDING_LAYER, o.inputShape));
    return finish(model, o.numClasses, kernel, lr);
  },
};

const mlp: ModelSpec<MlpOptions> = {
  ...MODEL_CATALOG.mlp,
  create(o) {
    const lr = o.learningRate ?? mlp.defaults.learningRate;
    const hidden = o.hidden ?? 128;
    const rate = o.dropout ?? mlp.dropout[0]!;
    checkCommon('mlp', o, lr);
    check(Number.isInteger(hidden) && hidden > 0, 'mlp', `hidden must be a positive integer, got ${hidden}`);
    check(rate >= 0 && rate < 1, 'mlp', `dropout must be in [0, 1), got ${rate}`);
    const kernel = seededInit(o.rng);
    const model = tf.sequential({ name: 'mlp' });
    model.add(flattenInput('flatten', o.inputShape));
    model.add(tf.layers.dense({ name: EMBEDDING_LAYER, units: hidden, activation: 'relu', kernelInitializer: kernel(), biasInitializer: 'zeros' }));
    model.add(tf.layers.dropout({ name: 'dropout', rate }));
    return finish(model, o.numClasses, kernel, lr);
  },
};

/**
 * The start of an image model's factory: its learning rate (the option, else the spec's), the
 * checks of the common options and of an [H, W, C] input of at least `minSize` pixels a side, the
 * seeded kernel initialisers and the empty Sequential named `name`.
 */
function imageModel(name: string, spec: ModelDescription, o: BaseModelOptions, minSize: number) {
  const lr = o.learningRate ?? spec.defaults.learningRate;
  checkCommon(name, o, lr);
  check(o.inputShape.length === 3, name, `inputShape must be [H, W, C], got ${JSON.stringify(o.inputShape)}`);
  const [h, w] = o.inputShape as [number, number, number];
  check(h >= minSize && w >= minSize, name, `images must be at least ${minSize}x${minSize}, got ${h}x${w}`);
  return { lr, kernel: seededInit(o.rng), model: tf.sequential({ name }) };
}

const cnn: ModelSpec = {
  ...MODEL_CATALOG.cnn,
  create(o) {
    // Two valid 4x4 convolutions take 6 pixels off each side, then a 2x2 pool needs >= 2.
    const { lr, kernel, model } = imageModel('cnn', cnn, o, 8);
    const conv = (name: string, extra: { inputShape?: number[] }) =>
      tf.layers.conv2d({
        name, filters: 32, kernelSize: 4, padding: 'valid', activation: 'relu',
        kernelInitializer: kernel(), biasInitializer: 'zeros', ...extra,
      });
    model.add(conv('conv1', { inputShape: [...o.inputShape] }));
    model.add(conv('conv2', {}));
    model.add(tf.layers.maxPooling2d({ name: 'pool', poolSize: 2 }));
    const [rate1, rate2] = cnn.dropout as [number, number];
    model.add(tf.layers.dropout({ name: 'dropout1', rate: rate1 }));
    model.add(tf.layers.flatten({ name: 'flatten' }));
    model.add(tf.layers.dense({ name: EMBEDDING_LAYER, units: 128, activation: 'relu', kernelInitializer: kernel(), biasInitializer: 'zeros' }));
    model.add(tf.layers.dropout({ name: 'dropout2', rate: rate2 }));
    return finish(model, o.numClasses, kernel, lr);
  },
};

/**
 * The BatchBALD paper's MNIST model (the authors' `mnist_model.BayesianNet`): each convolution is
 * followed by MC dropout of whole channels (PyTorch's Dropout2d: one draw per image and channel,
 * here `noiseShape` [batch, 1, 1, channels]), a 2x2 max-pool and a relu. The relu is the
 * convolution's own activation here, before the dropout and the pool: both only scale by
 * non-negative numbers or take maxima, so relu commutes with them and the function is the same.
 * Likewise dense 128 relu then dropout equals their dense, dropout, relu.
 */
const kirschCnn: ModelSpec = {
  ...MODEL_CATALOG.kirschCnn,
  create(o) {
    // conv 5x5 (-4), pool /2, conv 5x5 (-4), pool /2: 16x16 is the smallest image that leaves 1x1.
    const { lr, kernel, model } = imageModel('kirschCnn', kirschCnn, o, 16);
    const [rate1, rate2, rate3] = kirschCnn.dropout as [number, number, number];
    const block = (n: number, filters: number, rate: number, extra: { inputShape?: number[] }) => {
      model.add(tf.layers.conv2d({
        name: `conv${n}`, filters, kernelSize: 5, padding: 'valid', activation: 'relu',
        kernelInitializer: kernel(), biasInitializer: 'zeros', ...extra,
      }));
      // null: the batch axis, filled in per call (forward.ts); 1, 1: one draw per channel.
      model.add(tf.layers.dropout({ name: `dropout${n}`, rate, noiseShape: [null as unknown as number, 1, 1, filters] }));
      model.add(tf.layers.maxPooling2d({ name: `pool${n}`, poolSize: 2 }));
    };
    block(1, 32, rate1, { inputShape: [...o.inputShape] });
    block(2, 64, rate2, {});
    model.add(tf.layers.flatten({ name: 'flatten' }));
    model.add(tf.layers.dense({ name: EMBEDDING_LAYER, units: 128, activation: 'relu', kernelInitializer: kernel(), biasInitializer: 'zeros' }));
    model.add(tf.layers.dropout({ name: 'dropout3', rate: rate3 }));
    return finish(model, o.numClasses, kernel, lr);
  },
};

/** All registered models, by name: one factory per catalog entry. */
export const MODELS = { logreg, mlp, cnn, kirschCnn } satisfies Record<ModelName, ModelSpec>;

/** The options `createModel(name, ...)` accepts for that model. */
export type ModelOptions<N extends ModelName> = Parameters<(typeof MODELS)[N]['create']>[0];

/**
 * Build and compile a fresh model. Throws `UnknownModelError` (listing the known names) for an
 * unknown name and `ModelOptionsError` for options the architecture cannot take.
 *
 * @example
 *   const model = createModel('cnn', { inputShape: [28, 28, 1], numClasses: 10, rng: new Rng(1) });
 *   // ... train, predict ...
 *   disposeModel(model);
 */
export function createModel<N extends ModelName>(name: N, options: ModelOptions<N>): tf.Sequential {
  if (typeof name !== 'string' || !isModelName(name)) throw new UnknownModelError(String(name));
  const spec = MODELS[name] as ModelSpec<BaseModelOptions>;
  return spec.create(options);
}

/**
 * Dispose a model's weights and its optimizer's state. `model.dispose()` alone leaves the Adam
 * optimizer's variables alive, because a model compiled with an optimizer instance does not own it.
 *
 * @example
 *   disposeModel(model); model = createModel(name, { ...opts, rng: rng.fork(`round:${r}`) });
 */
export function disposeModel(model: tf.LayersModel): void {
  const optimizer = model.optimizer as tf.Optimizer | undefined;
  model.dispose();
  optimizer?.dispose();
}
