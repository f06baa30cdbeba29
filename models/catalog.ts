/**
 * What each model is, as plain data: description, the inputs it takes, its dropout and its
 * default learning rate. No tfjs: `resolveConfig`, the CLI's flags and the page read this module;
 * `models/index.ts` registers a factory (`create`) against each entry.
 */

/** `'image'`: inputShape [H, W, C]; `'vector'`: inputShape [D]. */
export type InputKind = 'image' | 'vector';

/**
 * Training settings a model brings. Only the learning rate is the model's: a configuration's
 * `learningRate: null` takes it. Epochs and batch size are the experiment's (`ExperimentConfig`).
 */
export interface TrainingDefaults {
  /** Adam learning rate. */
  learningRate: number;
}

export interface ModelDescription {
  readonly description: string;
  readonly defaults: Readonly<TrainingDefaults>;
  /** Which input kinds the architecture suits. */
  readonly inputKinds: readonly InputKind[];
  /** The rates of its dropout layers, input side first (empty: none). */
  readonly dropout: readonly number[];
  /** Whether the model has dropout layers, i.e. whether MC dropout gives more than one answer. */
  readonly hasDropout: boolean;
}

const model = (d: Omit<ModelDescription, 'hasDropout'>): ModelDescription => ({ ...d, hasDropout: d.dropout.length > 0 });

/** The registered models, by name. */
export const MODEL_CATALOG = {
  logreg: model({
    description: 'Multinomial logistic regression: flatten + dense softmax. No dropout.',
    defaults: { learningRate: 0.01 },
    inputKinds: ['image', 'vector'],
    dropout: [],
  }),
  mlp: model({
    description: 'One-hidden-layer perceptron: flatten, dense(hidden, relu), dropout, dense softmax.',
    defaults: { learningRate: 1e-3 },
    inputKinds: ['image', 'vector'],
    dropout: [0.5],
  }),
  cnn: model({
    description:
      'Gal, Islam & Ghahramani (2017) MNIST CNN: conv 32@4x4 relu, conv 32@4x4 relu, maxpool 2x2, ' +
      'dropout 0.25, dense 128 relu, dropout 0.5, dense softmax.',
    // Adam at Keras' default rate 1e-3, as in the paper's Keras setup (which trained 50 epochs at
    // batch 128: set those per experiment). The paper also adds an L2 weight decay scaled by the
    // labeled-set size; omitted here.
    defaults: { learningRate: 1e-3 },
    inputKinds: ['image'],
    dropout: [0.25, 0.5],
  }),
  kirschCnn: model({
    description:
      'Kirsch, van Amersfoort & Gal (2019) BatchBALD MNIST CNN: conv 32@5x5 relu, channel dropout 0.5, maxpool 2x2, ' +
      'conv 64@5x5 relu, channel dropout 0.5, maxpool 2x2, dense 128 relu, dropout 0.5, dense softmax.',
    // Adam at PyTorch's default rate 1e-3, as the authors' code (optim.Adam(model.parameters())).
    defaults: { learningRate: 1e-3 },
    inputKinds: ['image'],
    dropout: [0.5, 0.5, 0.5],
  }),
} as const satisfies Record<string, ModelDescription>;

export type ModelName = keyof typeof MODEL_CATALOG;

export const MODEL_NAMES = Object.keys(MODEL_CATALOG) as ModelName[];

export function isModelName(name: string): name is ModelName {
  return Object.hasOwn(MODEL_CATALOG, name);
}
