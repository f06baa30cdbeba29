/**
 * End to end: a finished run's final model downloads from the summary panel as the two
 * TensorFlow.js files (built in the engine worker, posted as a transferred buffer), and the files
 * load in Node and score the test rows as the page's run measured. A tiny logreg run on wasm.
 */
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import type { Download } from 'playwright';
import { describe, expect, it } from 'vitest';
import { batchTensor, loadDataset } from '../../datasets/index.ts';
import { loadExportedModel } from '../../models/export.ts';
import { disposeModel } from '../../models/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import type { ExperimentResults } from '../../src/engine/results.ts';
import { appQuery, buildSession, waitForStatus } from './helpers.ts';

const app = buildSession();
const RUN = {
  dataset: 'moons', model: 'logreg', strategies: 'entropy,random', initial: 10, query: 5, rounds: 2,
  repeats: 1, epochs: 5, batchSize: 16, poolSubset: null, testSubset: null, seed: 3, backend: 'wasm',
};

describe('model export from the page', { timeout: 240_000 }, () => {
  it('downloads a run\'s final model as <stem>-<strategy>-r<repeat>.json + .weights.bin, which predicts as the run measured', async () => {
    const { page, errors } = await app.open(appQuery(RUN));
    expect(await page.getAttribute('#thread-pill', 'data-thread')).toBe('worker'); // exported in the worker, where downloads:// throws
    expect(await page.isHidden('#model-export')).toBe(true); // nothing to export before a run
    await page.click('#run-btn');
    expect(await waitForStatus(page, /^(complete|failed|aborted)$/, 120_000)).toBe('complete');
    await page.waitForFunction(() => document.querySelectorAll('#model-run option').length === 2);
    expect(await page.isVisible('#model-export')).toBe(true);
    expect(await page.$$eval('#model-run option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['entropy#0', 'random#0']);
    expect(await page.textContent('#model-run option[value="random#0"]')).toMatch(/^Random · repeat 1 \(\d+ kB\)$/);

    await page.selectOption('#model-run', 'random#0');
    const downloads: Download[] = [];
    page.on('download', (d) => void downloads.push(d));
    await page.click('#export-model');
    await page.waitForFunction(() => /^Downloaded the final model of Random, repeat 1/.test(document.querySelector('#model-status')?.textContent ?? ''));
    const deadline = Date.now() + 20_000;
    while (downloads.length < 2 && Date.now() < deadline) await page.waitForTimeout(100);
    const names = downloads.map((d) => d.suggestedFilename());
    expect(names).toHaveLength(2);
    expect(names[0]).toMatch(/^activelab-moons-logreg-seed3-.+-random-r0\.json$/);
    expect(names[1]).toBe(names[0]!.replace(/\.json$/, '.weights.bin'));
    const [json, bin] = await Promise.all(downloads.map(async (d) => readFile(await d.path())));
    const manifest = (JSON.parse(json!.toString('utf8')) as tf.io.ModelJSON).weightsManifest;
    expect(manifest[0]!.paths).toEqual([`./${names[1]}`]); // what tf.io.browserFiles matches the weights file by

    const results = (await page.evaluate(() => window.activelab!.results())) as ExperimentResults;
    const run = results.runs.find((r) => r.strategy === 'random')!;
    await useBackend('wasm');
    const ds = await loadDataset('moons', { seed: 3 });
    const model = await loadExportedModel({ modelJson: json!, weights: bin! }, { inputShape: ds.shape, numClasses: ds.numClasses });
    const x = batchTensor(ds.test, Int32Array.from({ length: ds.test.n }, (_, i) => i), { shape: ds.shape });
    const p = model.predict(x) as tf.Tensor;
    const cls = tf.argMax(p, -1);
    const predicted = await cls.data();
    tf.dispose([x, p, cls]);
    disposeModel(model);
    let right = 0;
    predicted.forEach((c, i) => void (c === ds.test.y[i] && right++));
    expect(right / ds.test.n).toBeCloseTo(run.rounds.at(-1)!.accuracy!, 12);

    expect(await page.evaluate(() => '_tfengine' in globalThis)).toBe(false); // the page never loaded tfjs
    expect(errors).toEqual([]);
  });
});
