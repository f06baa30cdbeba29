/**
 * Model export on wasm: a run's final model, exported through `RunOptions.onFinalModel` and loaded
 * back, predicts exactly what the run's model predicted; the loader names the file that is wrong.
 */
import * as tf from '@tensorflow/tfjs';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchTensor, loadDataset } from '../../datasets/index.ts';
import { exportFiles, exportModel, loadExportedModel, ModelFileError, WEIGHTS_FILE, type ExportedFiles, type ModelExport } from '../../models/export.ts';
import { createModel, disposeModel, type ModelName } from '../../models/index.ts';
import { predictProbs } from '../../models/predict.ts';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig, runExperiment, tfLearner, type FinalModelRun, type LearnerFactory } from '../../src/engine/index.ts';
import { Rng } from '../../src/rng.ts';
import { recordingLearner } from '../support/export.ts';

beforeAll(async () => {
  await useBackend('wasm');
  expect(tf.getBackend()).toBe('wasm');
});

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** A fresh model of `name` for `shape` and `classes`, exported, with its probabilities on `x`. */
async function exported(name: ModelName, shape: number[], classes: number, seed: number, x: tf.Tensor): Promise<{ exp: ModelExport; probs: Float32Array }> {
  const model = createModel(name, { inputShape: shape, numClasses: classes, rng: new Rng(seed) });
  try {
    const p = model.predict(x) as tf.Tensor;
    const probs = (await p.data()) as Float32Array;
    p.dispose();
    return { exp: await exportModel(model), probs };
  } finally {
    disposeModel(model);
  }
}

async function predicted(model: tf.LayersModel, x: tf.Tensor): Promise<Float32Array> {
  const p = model.predict(x) as tf.Tensor;
  const v = (await p.data()) as Float32Array;
  p.dispose();
  return v;
}

describe('a run\'s final model, exported and loaded back (wasm)', () => {
  it('predicts the test rows exactly as the run\'s final model did, for every run; once per run, with its metadata', async () => {
    const config = resolveConfig({
      dataset: 'classification', model: 'mlp', strategies: ['entropy', 'random'], repeats: 2, initial: 10, query: 5, rounds: 2,
      epochs: 3, batchSize: 8, testSubset: null, poolSubset: null, seed: 4,
    });
    const ds = await loadDataset('classification', { seed: config.seed });
    const testIdx = range(ds.test.n);
    // The run's own final model's probabilities on the test rows, taken when the engine exports it.
    const { learner, reference } = recordingLearner(config, ds);
    const got: { run: FinalModelRun; files: ExportedFiles }[] = [];
    const res = await runExperiment(config, ds, { learner, onFinalModel: (run, model) => void got.push({ run, files: exportFiles(model) }) });
    expect(res.status).toBe('complete');
    expect(got.map((g) => `${g.run.strategy}#${g.run.repeat}`)).toEqual(['entropy#0', 'random#0', 'entropy#1', 'random#1']);

    const x = batchTensor(ds.test, testIdx, { shape: ds.shape });
    const before = tf.memory().numTensors;
    for (const { run, files } of got) {
      const rec = res.runs.find((r) => r.strategy === run.strategy && r.repeat === run.repeat)!;
      const last = rec.rounds.at(-1)!;
      expect(run).toEqual({ strategy: run.strategy, repeat: run.repeat, round: config.rounds, labeled: last.labeled, accuracy: last.accuracy });
      const json = JSON.parse(files.modelJson) as tf.io.ModelJSON;
      expect(json.weightsManifest[0]!.paths).toEqual([`./${WEIGHTS_FILE}`]);
      expect(json.userDefinedMetadata).toMatchObject({
        activelab: { dataset: 'classification', classNames: ds.classNames, inputShape: ds.shape, numClasses: 2, model: 'mlp', seed: 4, strategy: run.strategy, repeat: run.repeat, round: 2, labeled: 20 },
      });
      const model = await loadExportedModel(files, { inputShape: ds.shape, numClasses: ds.numClasses });
      const probs = await predicted(model, x);
      expect(probs).toEqual(reference.get(`${run.strategy}#${run.repeat}`));
      // The accuracy the run recorded is the loaded model's accuracy on the same rows.
      let right = 0;
      for (let i = 0; i < ds.test.n; i++) if ((probs[2 * i + 1]! > probs[2 * i]! ? 1 : 0) === ds.test.y[i]) right++;
      expect(right / ds.test.n).toBeCloseTo(last.accuracy!, 10);
      disposeModel(model);
    }
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('skips runs kept by resume (no model to export) and exports the runs it finishes', async () => {
    const config = resolveConfig({ dataset: 'classification', model: 'logreg', strategies: ['entropy', 'random'], initial: 10, query: 5, rounds: 1, epochs: 2, batchSize: 8, seed: 2 });
    const ds = await loadDataset('classification', { seed: 2 });
    const first = await runExperiment(config, ds);
    const partial = { config, runs: [first.runs[0]!, { ...first.runs[1]!, status: 'aborted' as const, rounds: first.runs[1]!.rounds.slice(0, 1) }] };
    const runs: string[] = [];
    const res = await runExperiment(config, ds, { resume: partial, onFinalModel: (run) => void runs.push(`${run.strategy}#${run.repeat}@${run.round}`) });
    expect(res.status).toBe('complete');
    expect(runs).toEqual(['random#0@1']);
  });

  it('an export that fails is a warning; the run keeps its results', async () => {
    const config = resolveConfig({ dataset: 'classification', model: 'logreg', strategies: ['random'], initial: 10, query: 5, rounds: 1, epochs: 1, batchSize: 8 });
    const ds = await loadDataset('classification', { seed: 1 });
    const warnings: string[] = [];
    const res = await runExperiment(config, ds, {
      onEvent: (e) => void (e.type === 'warning' && warnings.push(e.message)),
      onFinalModel: () => { throw new Error('disk full'); },
    });
    expect(res.status).toBe('complete');
    expect(res.runs[0]!.rounds).toHaveLength(2);
    expect(warnings).toEqual(['the final model could not be exported: disk full']);

    // A learner without exportModel (a mock) says so instead of exporting.
    const real = tfLearner({ model: 'logreg', epochs: 1, batchSize: 8, learningRate: null, warmStart: false, chunkSize: 64 });
    const plain: LearnerFactory = (ctx) => {
      const { exportModel: _drop, ...rest } = real(ctx);
      return rest;
    };
    warnings.length = 0;
    let calls = 0;
    await runExperiment(config, ds, { learner: plain, onEvent: (e) => void (e.type === 'warning' && warnings.push(e.message)), onFinalModel: () => void calls++ });
    expect(calls).toBe(0);
    expect(warnings).toEqual(['this learner cannot export its model: no final model is saved']);
  });
});

describe('exportModel / loadExportedModel (wasm)', () => {
  it('the Gal CNN round-trips: same probabilities, through the files as another app reads them (tf.io.fromMemory)', async () => {
    const x = tf.randomUniform([5, 28, 28, 1], 0, 1, 'float32', 3);
    const { exp, probs } = await exported('cnn', [28, 28, 1], 10, 7, x);
    const files = exportFiles(exp);
    // What the README shows for Node: read the files, parse model.json, hand its manifest and the weights to fromMemory.
    const folder = mkdtempSync(join(tmpdir(), 'activelab-export-'));
    writeFileSync(join(folder, 'model.json'), files.modelJson);
    writeFileSync(join(folder, 'weights.bin'), new Uint8Array(files.weights));
    const json = JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as tf.io.ModelJSON;
    const bin = readFileSync(join(folder, 'weights.bin'));
    const model = await tf.loadLayersModel(tf.io.fromMemory({
      modelTopology: json.modelTopology,
      weightSpecs: json.weightsManifest[0]!.weights,
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }));
    expect(await predicted(model, x)).toEqual(probs);
    // The chunked predictor on the loaded model agrees too.
    const p = predictProbs(model, (idx) => tf.gather(x, idx), range(5), { chunkSize: 5 });
    expect(await p.data()).toEqual(probs);
    p.dispose();
    disposeModel(model);
    const checked = await loadExportedModel(files, { inputShape: [28, 28, 1], numClasses: 10 });
    expect(await predicted(checked, x)).toEqual(probs);
    disposeModel(checked);
    x.dispose();
  });

  it('reads model.json as text, bytes, a Blob or an object, and the weights as a buffer, a typed array or a Blob', async () => {
    const x = tf.randomUniform([4, 6], 0, 1, 'float32', 1);
    const { exp, probs } = await exported('logreg', [6], 3, 1, x);
    const { modelJson, weights } = exportFiles(exp, 'my.weights.bin');
    expect((JSON.parse(modelJson) as tf.io.ModelJSON).weightsManifest[0]!.paths).toEqual(['./my.weights.bin']);
    const forms: [unknown, unknown][] = [
      [modelJson, weights],
      [new TextEncoder().encode(modelJson), new Uint8Array(weights)],
      [new Blob([modelJson]), new Blob([weights])],
      [JSON.parse(modelJson), new Float32Array(weights)],
    ];
    for (const [j, w] of forms) {
      const model = await loadExportedModel({ modelJson: j as string, weights: w as ArrayBuffer });
      expect(await predicted(model, x)).toEqual(probs);
      disposeModel(model);
    }
    x.dispose();
  });

  it('exportFiles refuses a weights file name with a folder in it', async () => {
    const x = tf.zeros([1, 2]);
    const { exp } = await exported('logreg', [2], 2, 1, x);
    x.dispose();
    expect(() => exportFiles(exp, '../w.bin')).toThrow(/plain file name/);
  });

  it('leaks nothing: exportModel creates no tensor; a loaded model frees all of its own', async () => {
    const model = createModel('mlp', { inputShape: [6], numClasses: 3, rng: new Rng(5) });
    await exportModel(model); // warm up
    const before = tf.memory().numTensors;
    const exp = await exportModel(model);
    expect(tf.memory().numTensors).toBe(before);
    disposeModel(model);
    const base = tf.memory().numTensors;
    const loaded = await loadExportedModel(exportFiles(exp));
    expect(tf.memory().numTensors).toBeGreaterThan(base);
    disposeModel(loaded);
    expect(tf.memory().numTensors).toBe(base);
  });

  describe('a corrupt or mismatched file fails with a message that says which', () => {
    let files: ExportedFiles;
    let other: ExportedFiles; // a model of another shape, with its own weights
    beforeAll(async () => {
      const x = tf.zeros([1, 6]);
      files = exportFiles((await exported('mlp', [6], 3, 2, x)).exp);
      x.dispose();
      const y = tf.zeros([1, 2]);
      other = exportFiles((await exported('logreg', [2], 2, 2, y)).exp);
      y.dispose();
    });
    const json = () => JSON.parse(files.modelJson) as Record<string, unknown>;

    const cases: [string, () => Parameters<typeof loadExportedModel>, 'model.json' | 'weights.bin' | 'both', RegExp][] = [
      ['model.json that is not JSON (the weights file given twice)', () => [{ modelJson: files.weights, weights: files.weights }], 'model.json', /^model\.json is not JSON \(it holds binary data\); give the model\.json of an export, not its weights file$/],
      ['model.json cut short', () => [{ modelJson: files.modelJson.slice(0, 40), weights: files.weights }], 'model.json', /^model\.json is not JSON \(.*JSON.*\); give the model\.json/],
      ['model.json whose topology has an unknown layer', () => {
        const j = json() as { modelTopology: { config: { layers: { class_name: string }[] } } };
        j.modelTopology.config.layers[1]!.class_name = 'Foo';
        return [{ modelJson: j, weights: files.weights }];
      }, 'model.json', /^model\.json's modelTopology does not build a model: Unknown layer: Foo/],
      ['model.json that is a list', () => [{ modelJson: '[1, 2]', weights: files.weights }], 'model.json', /^model\.json holds a list, not a model's JSON object$/],
      ['model.json without modelTopology (a graph model)', () => [{ modelJson: { ...json(), modelTopology: undefined, format: 'graph-model' }, weights: files.weights }], 'model.json', /^model\.json has no modelTopology: it is not a TensorFlow\.js layers model \(format 'graph-model'\)$/],
      ['model.json without weightsManifest', () => [{ modelJson: { ...json(), weightsManifest: undefined }, weights: files.weights }], 'model.json', /^model\.json has no weightsManifest \(a list of \{paths, weights\}\): the field is missing$/],
      ['a manifest entry with a bad dtype', () => {
        const j = json() as { weightsManifest: { weights: { dtype: string }[] }[] };
        j.weightsManifest[0]!.weights[1]!.dtype = 'float64';
        return [{ modelJson: j, weights: files.weights }];
      }, 'model.json', /^model\.json's weightsManifest\[0\]\.weights\[1\] \('embedding\/bias'\) has dtype "float64"; supported: /],
      ['weights.bin cut short', () => [{ modelJson: files.modelJson, weights: files.weights.slice(0, files.weights.byteLength - 4) }], 'weights.bin', /^the weights file has \d+ bytes, but model\.json's weightsManifest describes 4 weights of \d+ bytes in all: the weights file is damaged or belongs to another model\.json$/],
      ['weights.bin of another model', () => [{ modelJson: files.modelJson, weights: other.weights }], 'weights.bin', /^the weights file has 24 bytes, but model\.json's weightsManifest describes 4 weights of \d+ bytes in all/],
      ['weights whose names do not fit the topology', () => {
        const j = json() as { weightsManifest: { weights: { name: string }[] }[] };
        j.weightsManifest[0]!.weights[0]!.name = 'conv9/kernel';
        return [{ modelJson: j, weights: files.weights }];
      }, 'both', /^model\.json and the weights file do not make a model: .*conv9\/kernel/],
      ['a model for another input shape', () => [files, { inputShape: [28, 28, 1], numClasses: 3 }], 'model.json', /^model\.json's model takes inputs of shape \[6\], expected \[28, 28, 1\]: it was trained on another dataset$/],
      ['a model for another class count', () => [files, { inputShape: [6], numClasses: 10 }], 'model.json', /^model\.json's model outputs 3 classes, expected 10: it was trained on another dataset$/],
    ];
    for (const [what, args, file, message] of cases) {
      it(what, async () => {
        const before = tf.memory().numTensors;
        const err = await loadExportedModel(...args()).then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(ModelFileError);
        expect((err as ModelFileError).file).toBe(file);
        expect((err as Error).message).toMatch(message);
        expect(tf.memory().numTensors).toBe(before); // a refused model is disposed
      });
    }
  });
});
