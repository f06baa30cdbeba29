/**
 * `--save-models DIR` in-process through `main(argv, io)`: every finished run's final model in
 * DIR/<strategy>-r<repeat>/ as model.json + weights.bin, loadable and equal to the run's model;
 * the folder is checked before any work (exit 2); a write that fails at the end is exit 1 with
 * the results still written. These run in this process (`--jobs 1`, so a test's file system is
 * used); one case runs `--jobs 2`, whose worker processes write the models themselves.
 */
import * as tf from '@tensorflow/tfjs';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchTensor, loadDataset } from '../../datasets/index.ts';
import { loadExportedModel } from '../../models/export.ts';
import { disposeModel } from '../../models/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { main, type CliIo } from '../../src/cli/main.ts';
import { nodeFs, type OutputFs } from '../../src/cli/outputs.ts';
import { parseResultsFile } from '../../src/engine/results-file.ts';

const STACK_LINE = /^\s+at /m;

async function cli(argv: string[], fs: OutputFs = nodeFs): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, fs };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'activelab-save-models-'));
const TINY = ['--dataset', 'moons', '--model', 'logreg', '--strategies', 'entropy,random', '--initial', '10', '--query', '5', '--rounds', '2', '--epochs', '5', '--seed', '3', '--test-subset', 'all'];
/** In this process, so that a test's file system is the one written through. */
const IN_PROCESS = [...TINY, '--jobs', '1'];

/** Each run's saved model predicts the test rows with the accuracy of its last round, and carries its metadata. */
async function expectModelsOf(out: string, models: string): Promise<void> {
  await useBackend('wasm'); // the backend the runs trained on
  const results = parseResultsFile(readFileSync(out));
  const ds = await loadDataset('moons', { seed: 3 });
  const x = batchTensor(ds.test, Int32Array.from({ length: ds.test.n }, (_, i) => i), { shape: ds.shape });
  for (const run of results.runs) {
    const folder = join(models, `${run.strategy}-r${run.repeat}`);
    const weights = readFileSync(join(folder, 'weights.bin'));
    const model = await loadExportedModel({ modelJson: readFileSync(join(folder, 'model.json'), 'utf8'), weights }, { inputShape: ds.shape, numClasses: ds.numClasses });
    const p = model.predict(x) as tf.Tensor;
    const predicted = await tf.argMax(p, -1).data();
    p.dispose();
    disposeModel(model);
    let right = 0;
    predicted.forEach((c, i) => void (c === ds.test.y[i] && right++));
    expect(right / ds.test.n).toBeCloseTo(run.rounds.at(-1)!.accuracy!, 12);
    const meta = (JSON.parse(readFileSync(join(folder, 'model.json'), 'utf8')) as tf.io.ModelJSON).userDefinedMetadata!['activelab'];
    expect(meta).toMatchObject({ dataset: 'moons', strategy: run.strategy, repeat: run.repeat, round: 2, labeled: 20, model: 'logreg', seed: 3 });
  }
  x.dispose();
}

describe('--save-models', () => {
  it('writes each run\'s final model, which predicts the test rows as the run\'s last round measured', async () => {
    const models = join(dir, 'models', 'nested');
    const out = join(dir, 'run.json');
    const r = await cli([...IN_PROCESS, '--out', out, '--save-models', models]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(models).sort()).toEqual(['entropy-r0', 'random-r0']);
    for (const run of ['entropy-r0', 'random-r0']) {
      expect(readdirSync(join(models, run)).sort()).toEqual(['model.json', 'weights.bin']);
      expect(r.stdout).toContain(`wrote ${join(models, run)} (model.json, weights.bin)`);
    }
    await expectModelsOf(out, models);
  });

  it('--jobs 2: the worker processes write every run\'s folder into the one DIR, and the parent names each', async () => {
    const models = join(dir, 'jobs2-models');
    const out = join(dir, 'jobs2.json');
    const r = await cli([...TINY, '--repeats', '2', '--out', out, '--save-models', models, '--jobs', '2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('4 cells, 4 to run in 2 worker processes');
    const folders = ['entropy-r0', 'entropy-r1', 'random-r0', 'random-r1'];
    expect(readdirSync(models).sort()).toEqual(folders);
    for (const run of folders) {
      expect(readdirSync(join(models, run)).sort()).toEqual(['model.json', 'weights.bin']);
      expect(r.stdout).toContain(`wrote ${join(models, run)} (model.json, weights.bin)`);
    }
    const results = parseResultsFile(readFileSync(out));
    // Two processes took the cells as they came free (how many each ran depends on timing).
    expect(results.workers).toHaveLength(2);
    expect(results.workers!.flatMap((w) => w.cells).map((c) => `${c.strategy}-r${c.repeat}`).sort()).toEqual(folders);
    await expectModelsOf(out, models);
  });

  it.each([
    ['a file', () => {
      writeFileSync(join(dir, 'plain'), 'not a folder');
      return join(dir, 'plain');
    }, /^error: --save-models: cannot write the final models to .*plain: .*plain is a file, not a folder$/m],
    ['a folder under a file', () => join(dir, 'plain', 'models'), /^error: --save-models: cannot write the final models to .*plain\/models: .*plain is a file, not a folder$/m],
    ['the --out path', () => join(dir, 'same.json'), /^error: --save-models: cannot write the final models to .*same\.json: the results JSON \(--out\) is written there too$/m],
    ['a folder that cannot be created', () => '/proc/activelab-models', /^error: --save-models: cannot write the final models to \/proc\/activelab-models: cannot create the folder \/proc\/activelab-models: /m],
  ])('refuses %s before any work: exit 2, nothing written', async (_what, target, message) => {
    const out = join(dir, 'same.json');
    const r = await cli([...IN_PROCESS, '--out', out, '--save-models', target()]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });

  it('a model that cannot be written at the end is exit 1, named; the results and the other models are written', async () => {
    const models = join(dir, 'half');
    const out = join(dir, 'half.json');
    const fs: OutputFs = {
      ...nodeFs,
      create(path, data) {
        if (path.includes('random-r0') && path.includes('weights.bin')) throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
        nodeFs.create(path, data);
      },
    };
    const r = await cli([...IN_PROCESS, '--out', out, '--save-models', models], fs);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: could not write the final model of random, repeat 0 to ${models}: no space left on the device (ENOSPC)`);
    expect(parseResultsFile(readFileSync(out)).status).toBe('complete');
    expect(readdirSync(join(models, 'entropy-r0')).sort()).toEqual(['model.json', 'weights.bin']);
    expect(readdirSync(join(models, 'random-r0'))).toEqual([]); // nothing half-written
  });
});
