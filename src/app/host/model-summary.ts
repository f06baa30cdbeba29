/**
 * The Model panel's summary of a run's model, built in the compute host from the tfjs model and
 * posted as plain data (protocol.ts `ModelSummary`): per layer its name, class, output shape and
 * parameter count, what `model.summary()` prints to the console.
 */
import type * as tf from '@tensorflow/tfjs';
import { createModel, disposeModel, type ModelName } from '../../../models/index.ts';
import { Rng } from '../../rng.ts';
import type { ModelSummary } from '../protocol.ts';

const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** `[null, 28, 28, 32]`; a layer with several outputs lists each. */
export function formatShape(shape: tf.Shape | tf.Shape[]): string {
  const one = (s: tf.Shape) => `[${s.map((d) => (d === null ? 'null' : String(d))).join(', ')}]`;
  return Array.isArray(shape[0]) ? (shape as tf.Shape[]).map(one).join(', ') : one(shape as tf.Shape);
}

/**
 * The rows of a built model (creates no tensors).
 *
 * @example
 *   summarizeModel(createModel('logreg', { inputShape: [784], numClasses: 10, rng })).totalParams; // 7850
 */
export function summarizeModel(model: tf.LayersModel, name: string = model.name): ModelSummary {
  const layers = model.layers.map((layer) => ({
    name: layer.name,
    type: layer.getClassName(),
    outputShape: formatShape(layer.outputShape),
    params: layer.countParams(),
    trainable: layer.trainable && layer.trainableWeights.length > 0,
  }));
  return {
    model: name,
    layers,
    totalParams: layers.reduce((a, l) => a + l.params, 0),
    trainableParams: model.trainableWeights.reduce((a, w) => a + size(w.shape as number[]), 0),
  };
}

/**
 * The summary of the model a run of `model` on this data trains: built by the learner's factory
 * (`createModel`, the architecture does not depend on the weights), summarised, disposed. Its
 * initial weights come from a stream of the run's seed of its own, so no run's stream moves.
 */
export function describeModel(model: ModelName, o: { inputShape: readonly number[]; numClasses: number; seed: number }): ModelSummary {
  const built = createModel(model, { inputShape: o.inputShape, numClasses: o.numClasses, rng: new Rng(o.seed).fork('model-summary') });
  try {
    return summarizeModel(built, model);
  } finally {
    disposeModel(built);
  }
}
