/**
 * Model export in Chromium on real WebGL (SwiftShader here): a run's final model, exported through
 * `tf.io.withSaveHandler`, loads back through `tf.io.browserFiles` (the files a user downloads) and
 * `tf.io.fromMemory`, and predicts what the run's model predicted. Backend asserted.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchTensor, loadDataset } from '../../datasets/index.ts';
import { exportFiles, exportModel, loadExportedModel, ModelFileError, type ExportedFiles } from '../../models/export.ts';
import { createModel, disposeModel } from '../../models/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig, runExperiment } from '../../src/engine/index.ts';
import { Rng } from '../../src/rng.ts';
import { recordingLearner } from '../support/export.ts';

/** Same backend, same kernels: equal up to float32 rounding of a different program order, if any. */
const SAME_BACKEND = 1e-6;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function predicted(model: tf.LayersModel, x: tf.Tensor): Promise<Float32Array> {
  const p = model.predict(x) as tf.Tensor;
  const v = (await p.data()) as Float32Array;
  p.dispose();
  return v;
}

/** The downloaded pair as the browser hands it to a page: two Files named as model.json's manifest says. */
function asFiles(files: ExportedFiles, stem: string): [File, File] {
  return [new File([files.modelJson], `${stem}.json`, { type: 'application/json' }), new File([files.weights], `${stem}.weights.bin`)];
}

beforeAll(async () => {
  await useBackend('webgl');
  expect(tf.getBackend()).toBe('webgl');
});

describe('model export on webgl', () => {
  it('a run\'s final model, loaded with tf.io.browserFiles, predicts the test rows as the run\'s model did', async () => {
    expect(tf.getBackend()).toBe('webgl');
    const config = resolveConfig({
      dataset: 'moons', model: 'mlp', strategies: ['entropy'], initial: 10, query: 5, rounds: 1, epochs: 3, batchSize: 16, testSubset: null, seed: 6,
    });
    const ds = await loadDataset('moons', { seed: 6, params: { n: 300 } });
    const testIdx = Int32Array.from({ length: ds.test.n }, (_, i) => i);
    const { learner, reference: recorded } = recordingLearner(config, ds);
    let files: ExportedFiles | null = null;
    const res = await runExperiment(config, ds, { learner, onFinalModel: (_run, model) => void (files = exportFiles(model, 'entropy-r0.weights.bin')) });
    expect(res.environment.backend).toBe('webgl');
    expect(files).not.toBeNull();
    const x = batchTensor(ds.test, testIdx, { shape: ds.shape });

    // As another tfjs app would: the two downloaded files, through tf.io.browserFiles.
    const model = await tf.loadLayersModel(tf.io.browserFiles(asFiles(files!, 'entropy-r0')));
    expect(maxAbsDiff(await predicted(model, x), recorded.get('entropy#0')!)).toBeLessThanOrEqual(SAME_BACKEND);
    model.dispose();
    // Through the checked loader, from the same Files.
    const [json, bin] = asFiles(files!, 'entropy-r0');
    const checked = await loadExportedModel({ modelJson: json, weights: bin }, { inputShape: ds.shape, numClasses: ds.numClasses });
    expect(maxAbsDiff(await predicted(checked, x), recorded.get('entropy#0')!)).toBeLessThanOrEqual(SAME_BACKEND);
    disposeModel(checked);
    x.dispose();
    expect(tf.getBackend()).toBe('webgl');
  });

  it('the Gal CNN round-trips through tf.io.fromMemory on webgl, and loads on wasm to the same answers within 1e-4', async () => {
    expect(tf.getBackend()).toBe('webgl');
    const x = tf.randomUniform([4, 28, 28, 1], 0, 1, 'float32', 9);
    const model = createModel('cnn', { inputShape: [28, 28, 1], numClasses: 10, rng: new Rng(2) });
    const before = await predicted(model, x);
    const exp = await exportModel(model);
    disposeModel(model);
    const files = exportFiles(exp);
    const json = JSON.parse(files.modelJson) as tf.io.ModelJSON;
    const loaded = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0]!.weights, weightData: files.weights }));
    expect(maxAbsDiff(await predicted(loaded, x), before)).toBeLessThanOrEqual(SAME_BACKEND);
    loaded.dispose();
    const xs = await x.data();
    x.dispose();

    await useBackend('wasm');
    expect(tf.getBackend()).toBe('wasm');
    const onWasm = await loadExportedModel(files, { inputShape: [28, 28, 1], numClasses: 10 });
    const xw = tf.tensor(xs, [4, 28, 28, 1]);
    expect(maxAbsDiff(await predicted(onWasm, xw), before)).toBeLessThanOrEqual(1e-4);
    disposeModel(onWasm);
    xw.dispose();
    await useBackend('webgl');
    expect(tf.getBackend()).toBe('webgl');
  });

  it('a mismatched pair of Files fails with a message that says which', async () => {
    const a = createModel('logreg', { inputShape: [2], numClasses: 2, rng: new Rng(1) });
    const b = createModel('mlp', { inputShape: [2], numClasses: 2, rng: new Rng(1) });
    const fa = exportFiles(await exportModel(a));
    const fb = exportFiles(await exportModel(b));
    disposeModel(a);
    disposeModel(b);
    const before = tf.memory().numTensors;
    const err = await loadExportedModel({ modelJson: asFiles(fa, 'a')[0], weights: asFiles(fb, 'b')[1] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as ModelFileError).file).toBe('weights.bin');
    expect((err as Error).message).toMatch(/^the weights file has \d+ bytes, but model\.json's weightsManifest describes 2 weights of 24 bytes in all/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
