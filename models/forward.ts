/**
 * A hand-run forward pass over a `tf.Sequential`'s layers, with dropout under our control.
 *
 * Why not `model.apply(x, {training: true})`: a tfjs `Dropout` layer with a seed draws the same
 * mask on every call (`tfjs-core/src/ops/dropout.ts` reseeds each time), and without a seed it
 * draws from `Math.random`, so neither gives reproducible *and* fresh masks. Here every dropout
 * layer becomes `tf.dropout(h, rate, noiseShape, seed)` with a new seed from our `Rng` per call,
 * and every other layer runs as `layer.apply(h)` (inference behaviour). Layers whose behaviour
 * depends on the training flag in other ways are refused.
 *
 * Internal to models/: train.ts and predict.ts build on it.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../src/rng.ts';

type Layer = tf.layers.Layer;

/** Thrown when a model's structure does not allow what was asked (not Sequential, no such layer...). */
export class ModelStructureError extends Error {
  override readonly name = 'ModelStructureError';
}

/** Layers that act differently in training and that the hand-run pass cannot reproduce. */
const UNSUPPORTED = new Set([
  'BatchNormalization', 'LayerNormalization', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout',
  'SpatialDropout1D', 'SpatialDropout2D',
]);

/** The layers of a Sequential model, in order (tfjs omits the implicit InputLayer). */
export function sequentialLayers(model: tf.LayersModel, what: string): Layer[] {
  if (!(model instanceof tf.Sequential)) {
    throw new ModelStructureError(`${what} needs a tf.Sequential model, got ${model.getClassName()} '${model.name}'`);
  }
  const layers = model.layers;
  for (const layer of layers) {
    if (UNSUPPORTED.has(layer.getClassName())) {
      throw new ModelStructureError(`${what}: layer '${layer.name}' (${layer.getClassName()}) is not supported`);
    }
  }
  return layers;
}

/** Index of the layer called `name`; throws listing the layer names if there is none. */
export function layerIndex(layers: readonly Layer[], name: string, what: string): number {
  const i = layers.findIndex((l) => l.name === name);
  if (i < 0) {
    throw new ModelStructureError(`${what}: no layer named '${name}'; layers: ${layers.map((l) => l.name).join(', ')}`);
  }
  return i;
}

export function isDropout(layer: Layer): boolean {
  return layer.getClassName() === 'Dropout';
}

/** Width of a layer's output (product of the non-batch dims). */
export function outputWidth(layer: Layer): number {
  const shape = layer.outputShape as (number | null)[];
  return shape.slice(1).reduce<number>((a, d) => a * (d ?? NaN), 1);
}

/**
 * Run `layers[from..to)` on `h`. With `dropoutRng`, every Dropout layer applies a fresh mask
 * seeded by `dropoutRng.tfSeed()` (one draw per dropout layer, in order); without it dropout is
 * the identity. With `sharedMask`, each mask has batch size 1: every row drops the same units.
 * Call inside `tf.tidy` (or a gradient scope): intermediates are not disposed here.
 */
export function runLayers(
  layers: readonly Layer[], h: tf.Tensor, from: number, to: number, dropoutRng: Rng | null, options: { sharedMask?: boolean } = {},
): tf.Tensor {
  let out = h;
  for (let i = from; i < to; i++) {
    const layer = layers[i]!;
    if (isDropout(layer)) {
      if (dropoutRng === null) continue;
      const cfg = layer.getConfig() as { rate: number; noiseShape?: (number | null)[] | null };
      const seed = dropoutRng.tfSeed(); // drawn even for rate 0, so the stream does not depend on rates
      if (cfg.rate <= 0) continue;
      let noiseShape = cfg.noiseShape ? cfg.noiseShape.map((d, k) => d ?? out.shape[k]!) : undefined;
      if (options.sharedMask) noiseShape = [1, ...(noiseShape ?? out.shape).slice(1)];
      out = tf.dropout(out, cfg.rate, noiseShape, seed);
    } else {
      const y = layer.apply(out);
      if (!(y instanceof tf.Tensor)) {
        throw new ModelStructureError(`layer '${layer.name}' did not return a single tensor`);
      }
      out = y;
    }
  }
  return out;
}
