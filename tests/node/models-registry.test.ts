import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  createModel, disposeModel, EMBEDDING_LAYER, isModelName, LOGITS_LAYER, MODEL_CATALOG, MODEL_NAMES, ModelOptionsError, MODELS,
  PROBS_LAYER, UnknownModelError, type ModelName,
} from '../../models/index.ts';
import { runLayers, sequentialLayers } from '../../models/forward.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend, TEST_BACKENDS } from '../support/backends.ts';

/** Every weight of `model` as plain arrays, in layer order (kernel, bias, ...). */
async function weightValues(model: tf.LayersModel): Promise<number[][]> {
  return Promise.all(model.getWeights().map(async (w) => Array.from(await w.data())));
}

describe('models registry', () => {
  onBackend('cpu');

  it('lists logreg, mlp, cnn and kirschCnn, each with its catalog entry (plain data) and a factory', () => {
    expect(Object.keys(MODELS)).toEqual(['logreg', 'mlp', 'cnn', 'kirschCnn']);
    expect(MODEL_NAMES).toEqual(Object.keys(MODELS));
    for (const name of MODEL_NAMES) {
      const { create, ...plain } = MODELS[name];
      expect(typeof create).toBe('function');
      expect(plain).toEqual(MODEL_CATALOG[name]);
      expect(plain.description.length).toBeGreaterThan(10);
      expect(plain.defaults.learningRate).toBeGreaterThan(0);
      expect(plain.inputKinds.length).toBeGreaterThan(0);
    }
    expect(MODELS.cnn.inputKinds).toEqual(['image']);
    // Only the learning rate is a model's default; epochs and batch size are the experiment's.
    expect(MODELS.cnn.defaults).toEqual({ learningRate: 1e-3 });
    expect(MODELS.logreg.hasDropout).toBe(false);
    expect(MODELS.mlp.hasDropout && MODELS.cnn.hasDropout).toBe(true);
  });

  it.each(MODEL_NAMES)('%s: the catalog states the dropout rates of the layers the factory builds', (name) => {
    const model = createModel(name, { inputShape: MODEL_CATALOG[name].inputKinds.includes('image') ? [16, 16, 1] : [4], numClasses: 3, rng: new Rng(1) });
    const rates = model.layers.filter((l) => l.getClassName() === 'Dropout').map((l) => (l.getConfig() as { rate: number }).rate);
    disposeModel(model);
    expect(rates).toEqual(MODEL_CATALOG[name].dropout);
    expect(MODEL_CATALOG[name].hasDropout).toBe(rates.length > 0);
  });

  it('rejects an unknown name with an error listing the known ones', () => {
    expect(isModelName('mlp')).toBe(true);
    expect(isModelName('resnet')).toBe(false);
    expect(isModelName('toString')).toBe(false);
    const make = () => createModel('resnet' as never, { inputShape: [4], numClasses: 2, rng: new Rng(1) } as never);
    expect(make).toThrow(UnknownModelError);
    expect(make).toThrow("unknown model 'resnet'; known: logreg, mlp, cnn, kirschCnn");
  });

  it('rejects options the architecture cannot take', () => {
    const rng = new Rng(1);
    expect(() => createModel('cnn', { inputShape: [784], numClasses: 10, rng })).toThrow(ModelOptionsError);
    expect(() => createModel('cnn', { inputShape: [784], numClasses: 10, rng })).toThrow(/cnn: inputShape must be \[H, W, C\]/);
    expect(() => createModel('cnn', { inputShape: [7, 7, 1], numClasses: 10, rng })).toThrow(/at least 8x8, got 7x7/);
    expect(() => createModel('logreg', { inputShape: [4], numClasses: 1, rng })).toThrow(/numClasses must be an integer >= 2, got 1/);
    expect(() => createModel('mlp', { inputShape: [4, 0], numClasses: 3, rng })).toThrow(/inputShape must be a non-empty list of positive integers/);
    expect(() => createModel('mlp', { inputShape: [4], numClasses: 3, rng, dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(() => createModel('mlp', { inputShape: [4], numClasses: 3, rng, learningRate: 0 })).toThrow(/learningRate must be positive/);
  });

  it('builds the Gal et al. CNN layer by layer', () => {
    const m = createModel('cnn', { inputShape: [28, 28, 1], numClasses: 10, rng: new Rng(1) });
    const summary = m.layers.map((l) => [l.name, l.getClassName(), (l.outputShape as number[]).slice(1)]);
    expect(summary).toEqual([
      ['conv1', 'Conv2D', [25, 25, 32]],
      ['conv2', 'Conv2D', [22, 22, 32]],
      ['pool', 'MaxPooling2D', [11, 11, 32]],
      ['dropout1', 'Dropout', [11, 11, 32]],
      ['flatten', 'Flatten', [3872]],
      [EMBEDDING_LAYER, 'Dense', [128]],
      ['dropout2', 'Dropout', [128]],
      [LOGITS_LAYER, 'Dense', [10]],
      [PROBS_LAYER, 'Activation', [10]],
    ]);
    expect((m.getLayer('dropout1').getConfig() as { rate: number }).rate).toBe(0.25);
    expect((m.getLayer('dropout2').getConfig() as { rate: number }).rate).toBe(0.5);
    expect(m.getLayer('conv1').getConfig()).toMatchObject({ filters: 32, kernelSize: [4, 4], padding: 'valid', activation: 'relu' });
    expect(m.countParams()).toBe(32 * 16 + 32 + 32 * 32 * 16 + 32 + 3872 * 128 + 128 + 128 * 10 + 10);
    expect(m.loss).toBe('categoricalCrossentropy');
    expect(m.optimizer.getClassName()).toBe('Adam');
    expect((m.optimizer.getConfig() as { learningRate: number }).learningRate).toBe(1e-3);
    disposeModel(m);
  });

  it('builds the Kirsch et al. 2019 BatchBALD CNN layer by layer, with channel dropout after each convolution', () => {
    const m = createModel('kirschCnn', { inputShape: [28, 28, 1], numClasses: 10, rng: new Rng(1) });
    const summary = m.layers.map((l) => [l.name, l.getClassName(), (l.outputShape as number[]).slice(1)]);
    expect(summary).toEqual([
      ['conv1', 'Conv2D', [24, 24, 32]],
      ['dropout1', 'Dropout', [24, 24, 32]],
      ['pool1', 'MaxPooling2D', [12, 12, 32]],
      ['conv2', 'Conv2D', [8, 8, 64]],
      ['dropout2', 'Dropout', [8, 8, 64]],
      ['pool2', 'MaxPooling2D', [4, 4, 64]],
      ['flatten', 'Flatten', [1024]],
      [EMBEDDING_LAYER, 'Dense', [128]],
      ['dropout3', 'Dropout', [128]],
      [LOGITS_LAYER, 'Dense', [10]],
      [PROBS_LAYER, 'Activation', [10]],
    ]);
    // The authors' BayesianNet: 5x5 kernels, fc 1024 -> 128 -> 10, dropout 0.5 throughout.
    expect(m.countParams()).toBe(25 * 32 + 32 + 25 * 32 * 64 + 64 + 1024 * 128 + 128 + 128 * 10 + 10);
    expect((m.getLayer('dropout1').getConfig() as { noiseShape: unknown }).noiseShape).toEqual([null, 1, 1, 32]);
    expect((m.getLayer('dropout2').getConfig() as { noiseShape: unknown }).noiseShape).toEqual([null, 1, 1, 64]);
    expect(() => createModel('kirschCnn', { inputShape: [15, 28, 1], numClasses: 10, rng: new Rng(1) })).toThrow(/kirschCnn: images must be at least 16x16, got 15x28/);
    disposeModel(m);
  });

  it('kirschCnn drops whole channels: a dropped channel is zero at every pixel of that image', async () => {
    const m = createModel('kirschCnn', { inputShape: [16, 16, 1], numClasses: 3, rng: new Rng(2) });
    const layers = sequentialLayers(m, 'test');
    const x = tf.randomUniform([4, 16, 16, 1], 0, 1, 'float32', 5);
    const h = tf.tidy(() => runLayers(layers, x, 0, 2, new Rng(9))); // conv1 + its dropout: [4, 12, 12, 32]
    const values = await h.array() as number[][][][];
    const plain = tf.tidy(() => runLayers(layers, x, 0, 1, null));
    const before = await plain.array() as number[][][][];
    tf.dispose([x, h, plain]);
    disposeModel(m);
    let dropped = 0;
    let worst = 0; // the largest |kept - 2 x live| over the kept channels
    for (let n = 0; n < 4; n++) {
      const rows = values[n]!.flat(), live = before[n]!.flat();
      for (let c = 0; c < 32; c++) {
        if (live.every((p) => p[c] === 0)) continue; // a dead relu channel says nothing
        // Either the whole channel is dropped, or it is kept and scaled by 1 / (1 - 0.5).
        if (rows.every((p) => p[c] === 0)) dropped++;
        else rows.forEach((p, i) => { worst = Math.max(worst, Math.abs(p[c]! - 2 * live[i]![c]!)); });
      }
    }
    expect(worst).toBeLessThan(1e-4);
    expect(dropped).toBeGreaterThan(10); // about half of 4 x 32
    expect(dropped).toBeLessThan(118);
  });

  it('mlp hidden width and dropout are configurable', () => {
    const m = createModel('mlp', { inputShape: [6], numClasses: 3, rng: new Rng(1), hidden: 16, dropout: 0.2, learningRate: 0.05 });
    expect(m.getLayer(EMBEDDING_LAYER).outputShape).toEqual([null, 16]);
    expect((m.getLayer('dropout').getConfig() as { rate: number }).rate).toBe(0.2);
    expect((m.optimizer.getConfig() as { learningRate: number }).learningRate).toBe(0.05);
    disposeModel(m);
    const d = createModel('mlp', { inputShape: [6], numClasses: 3, rng: new Rng(1) });
    expect(d.getLayer(EMBEDDING_LAYER).outputShape).toEqual([null, 128]);
    disposeModel(d);
  });

  it('createModel advances the caller rng by exactly one draw', () => {
    const a = new Rng(5), b = new Rng(5);
    disposeModel(createModel('logreg', { inputShape: [3], numClasses: 2, rng: a }));
    b.uint32();
    expect(a.uint32()).toBe(b.uint32());
  });

  it('disposeModel frees the weights and the optimizer state', async () => {
    const before = tf.memory().numTensors;
    const m = createModel('mlp', { inputShape: [4], numClasses: 3, rng: new Rng(2), hidden: 8 });
    const x = tf.zeros([2, 4]);
    const y = tf.tensor2d([[1, 0, 0], [0, 1, 0]]);
    await m.trainOnBatch(x, y); // creates Adam's moment variables
    tf.dispose([x, y]);
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    disposeModel(m);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe.each(TEST_BACKENDS)('model outputs and seeded init on %s', (backend) => {
  onBackend(backend);
  const cases: [ModelName, number[]][] = [
    ['logreg', [5]],
    ['logreg', [8, 8, 1]],
    ['mlp', [5]],
    ['mlp', [8, 8, 1]],
    ['cnn', [8, 8, 1]],
    ['cnn', [12, 10, 3]],
    ['kirschCnn', [16, 16, 1]],
  ];

  it.each(cases)('%s on %j gives [N, C] softmax rows', async (name, inputShape) => {
    const m = createModel(name, { inputShape, numClasses: 4, rng: new Rng(3) });
    const y = tf.tidy(() => m.predict(tf.randomUniform([3, ...inputShape], 0, 1, 'float32', 9)) as tf.Tensor);
    expect(y.shape).toEqual([3, 4]);
    const sums = await tf.sum(y, 1).data();
    for (const s of sums) expect(s).toBeCloseTo(1, 5);
    expect(m.getLayer(EMBEDDING_LAYER)).toBeTruthy();
    expect(m.getLayer(LOGITS_LAYER).outputShape).toEqual([null, 4]);
    tf.dispose(y);
    disposeModel(m);
  });

  it.each(['logreg', 'mlp', 'cnn'] as ModelName[])('%s: same seed -> identical initial weights, other seed -> different', async (name) => {
    const inputShape = name === 'cnn' ? [8, 8, 1] : [6];
    const a = createModel(name, { inputShape, numClasses: 3, rng: new Rng(42) });
    const b = createModel(name, { inputShape, numClasses: 3, rng: new Rng(42) });
    const c = createModel(name, { inputShape, numClasses: 3, rng: new Rng(43) });
    const [wa, wb, wc] = await Promise.all([weightValues(a), weightValues(b), weightValues(c)]);
    expect(wa).toEqual(wb);
    // Kernels (even-numbered weights) differ under another seed; biases start at 0 for both.
    for (let i = 0; i < wa.length; i += 2) expect(wa[i]).not.toEqual(wc[i]);
    for (let i = 1; i < wa.length; i += 2) expect(new Set(wa[i])).toEqual(new Set([0]));
    [a, b, c].forEach(disposeModel);
  });

  it('gives each layer its own seed (equal-shaped kernels differ)', async () => {
    // embedding kernel [8, 8] and logits kernel [8, 8]: one shared seed would make them equal.
    const m = createModel('mlp', { inputShape: [8], numClasses: 8, hidden: 8, rng: new Rng(7) });
    const [k1, , k2] = await weightValues(m);
    expect(k1).toHaveLength(64);
    expect(k2).toHaveLength(64);
    expect(k1).not.toEqual(k2);
    disposeModel(m);
  });
});
