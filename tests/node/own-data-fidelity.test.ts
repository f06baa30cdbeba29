/**
 * Fidelity of `--data` against the idx files: 2,000 MNIST training images (and 200 test images)
 * written as PNG files into class folders are read back at 28x28x1 byte for byte as the idx rows,
 * and an experiment on the folder (through the CLI) makes the same selections with the same
 * accuracies as the same rows taken from the idx data (same config and seed).
 */
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { gatherRows, loadDataset, type Dataset } from '../../datasets/index.ts';
import { nodeSource } from '../../datasets/source-node.ts';
import { loadUserDataNode } from '../../datasets/user/node.ts';
import { main, type CliIo } from '../../src/cli/main.ts';
import { nodeFs } from '../../src/cli/outputs.ts';
import { runExperiment } from '../../src/engine/loop.ts';
import { parseResultsFile } from '../../src/engine/results-file.ts';
import { pngBytes, tempDir, writeFile } from '../support/image-files.ts';

const N_TRAIN = 2000;
const N_TEST = 200;
const dir = tempDir('activelab-fidelity-');
const trainDir = join(dir, 'mnist-png');
const testDir = join(dir, 'mnist-png-test');
let mnist: Dataset<'mnist'>;

/** The rows 0..n-1 of a split in the order the folder is read: by class folder, then by file name (the row index). */
const folderOrder = (y: Uint8Array, n: number) => Array.from({ length: n }, (_, i) => i).sort((a, b) => y[a]! - y[b]! || a - b);

function writeSplit(folder: string, split: Dataset['train'], n: number): void {
  for (let i = 0; i < n; i++) {
    const data = split.x.subarray(i * 784, (i + 1) * 784) as Uint8Array;
    writeFile(join(folder, String(split.y[i]), `${String(i).padStart(5, '0')}.png`), pngBytes({ width: 28, height: 28, channels: 1, data }));
  }
}

beforeAll(async () => {
  mnist = await loadDataset('mnist', { source: nodeSource() });
  writeSplit(trainDir, mnist.train, N_TRAIN);
  writeSplit(testDir, mnist.test, N_TEST);
}, 60_000);

describe('2,000 MNIST images as PNG class folders', () => {
  it('read back at 28x28x1: the pixels are byte-identical to the idx data, the labels the same', async () => {
    const { data, warnings } = await loadUserDataNode({ data: trainDir, test: testDir, imageSize: [28, 28, 1] });
    expect(warnings).toEqual([]);
    expect(data.classNames).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const train = gatherRows(mnist.train, folderOrder(mnist.train.y, N_TRAIN));
    const test = gatherRows(mnist.test, folderOrder(mnist.test.y, N_TEST));
    expect(data.rows.n).toBe(N_TRAIN);
    expect(Buffer.compare(Buffer.from(data.rows.x as Uint8Array), Buffer.from(train.x as Uint8Array))).toBe(0);
    expect(Buffer.compare(Buffer.from(data.rows.y), Buffer.from(train.y))).toBe(0);
    expect(Buffer.compare(Buffer.from(data.testRows!.x as Uint8Array), Buffer.from(test.x as Uint8Array))).toBe(0);
    expect(Buffer.compare(Buffer.from(data.testRows!.y), Buffer.from(test.y))).toBe(0);
  }, 60_000);

  it('an experiment on the folder (CLI) selects the same rows with the same accuracies as the same rows from idx', async () => {
    let stderr = '';
    const io: CliIo = { stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) }, fs: nodeFs };
    const out = join(dir, 'run.json');
    const code = await main(['--data', trainDir, '--test', testDir, '--model', 'mlp', '--strategies', 'entropy,random', '--initial', '20', '--query', '10',
      '--rounds', '2', '--epochs', '1', '--pool-subset', '300', '--test-subset', 'all', '--seed', '3', '--jobs', '1', '--out', out], io);
    expect(code, stderr).toBe(0);
    const fromFolder = parseResultsFile(readFileSync(out));
    const idx: Dataset<string> = {
      ...mnist, name: fromFolder.config.dataset,
      train: gatherRows(mnist.train, folderOrder(mnist.train.y, N_TRAIN)),
      test: gatherRows(mnist.test, folderOrder(mnist.test.y, N_TEST)),
    };
    const fromIdx = await runExperiment(fromFolder.config, idx);
    const picks = (r: typeof fromIdx) => r.runs.map((run) => run.rounds.map((x) => ({ selected: x.selected, accuracy: x.accuracy, loss: x.loss })));
    expect(picks(fromFolder)).toEqual(picks(fromIdx));
    expect(fromFolder.runs.map((r) => r.rounds.length)).toEqual([3, 3]);
    expect(fromFolder.runs[0]!.rounds[1]!.selected).toHaveLength(10);
  }, 120_000);
});
