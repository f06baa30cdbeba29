/** The headless runner as a user runs it: separate processes, files on disk, exit codes. */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { ExperimentResults } from '../../src/engine/index.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/experiment.ts', ...args], { cwd: ROOT, timeout: 240_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('npm run experiment', () => {
  it('same config and seed in two processes: identical selections and accuracies (MNIST CNN on wasm, with MC dropout)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'activelab-cli-'));
    const args = ['--dataset', 'mnist', '--model', 'cnn', '--strategies', 'bald,random', '--initial', '10', '--query', '5', '--rounds', '2',
      '--epochs', '1', '--pool-subset', '60', '--test-subset', '60', '--mc-samples', '3', '--seed', '11'];
    const [a, b] = await Promise.all([cli([...args, '--out', join(dir, 'a.json')]), cli([...args, '--out', join(dir, 'b.json')])]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const ra = JSON.parse(readFileSync(join(dir, 'a.json'), 'utf8')) as ExperimentResults;
    const rb = JSON.parse(readFileSync(join(dir, 'b.json'), 'utf8')) as ExperimentResults;
    const picks = (r: ExperimentResults) => r.runs.map((x) => x.rounds.map((y) => [y.selected, y.accuracy, y.loss]));
    expect(picks(ra)).toEqual(picks(rb));
    expect(ra.runs.map((r) => r.rounds.length)).toEqual([3, 3]);
    expect(ra.environment.backend).toBe('wasm');
    // A different seed asks for other examples.
    const c = await cli([...args.slice(0, -1), '12', '--out', join(dir, 'c.json')]);
    expect(c.code, c.stderr).toBe(0);
    const rc = JSON.parse(readFileSync(join(dir, 'c.json'), 'utf8')) as ExperimentResults;
    expect(picks(rc)).not.toEqual(picks(ra));
  });

  it('writes JSON, CSV and an SVG chart and prints the summary table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'activelab-cli-'));
    const r = await cli(['--dataset', 'classification', '--model', 'logreg', '--strategies', 'entropy,random', '--initial', '10', '--query', '10',
      '--rounds', '3', '--repeats', '2', '--epochs', '20', '--target', '0.6', '--out', join(dir, 'run.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/strategy\s+final accuracy \(mean ± std\)\s+ALC\s+labels to 60%/);
    expect(r.stdout).toMatch(/entropy\s+\d+\.\d\d% ± \d+\.\d\d/);
    const res = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')) as ExperimentResults;
    expect(res.summary.map((s) => s.strategy)).toEqual(['entropy', 'random']);
    expect(res.runs).toHaveLength(4);
    for (const run of res.runs) {
      for (const round of run.rounds) {
        expect(Object.keys(round).sort()).toEqual(['accuracy', 'calibration', 'classCounts', 'ece', 'labeled', 'loss', 'ms', 'round', 'selected', 'selectedScores'].sort());
        expect(Object.keys(round.ms).sort()).toEqual(['evaluate', 'predict', 'score', 'select', 'train']);
      }
    }
    const csv = readFileSync(join(dir, 'run.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('strategy,repeat,round,labeled,accuracy,loss,ece,temperature,train_ms,predict_ms,score_ms,select_ms,evaluate_ms,class_counts,selected');
    expect(csv).toHaveLength(1 + 4 * 4);
    const svg = readFileSync(join(dir, 'run.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('labeled examples');
    expect(svg).toContain('test accuracy');
  });

  it.each([
    [['--rounds', 'x'], "error: --rounds takes a whole number, got 'x'"],
    [['--frobnicate'], 'error: unknown flag --frobnicate; known flags: --preset'],
    [['--strategies', 'bald,entrpy'], "error: config.strategies = 'entrpy' is not allowed: each one of random, entropy"],
    [['--dataset', 'moons', '--model', 'cnn'], "error: config.model = 'cnn' is not allowed: a model for points data (moons); 'cnn' takes image inputs"],
    [['--initial', '5', '--balanced'], 'error: config.initial = 5 is not allowed: at least the number of classes (10) when balanced is true'],
    [['--preset', 'gal2018'], "error: unknown preset 'gal2018'; known presets: gal2017"],
    [['--backend', 'webgl'], 'error: --backend webgl exists only in the browser'],
  ])('bad input %j exits 2 with a clear message', async (args, message) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('--resume continues a stopped run from its results file to the results of an uninterrupted run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'activelab-cli-'));
    const args = ['--dataset', 'classification', '--model', 'mlp', '--strategies', 'entropy,random', '--initial', '10', '--query', '5',
      '--rounds', '3', '--epochs', '3', '--test-subset', '200', '--seed', '5'];
    const full = await cli([...args, '--out', join(dir, 'full.json')]);
    expect(full.code, full.stderr).toBe(0);
    const res = JSON.parse(readFileSync(join(dir, 'full.json'), 'utf8')) as ExperimentResults;

    // What a Ctrl-C during random's round 2 leaves: entropy complete, random with rounds 0 and 1.
    const stopped: ExperimentResults = structuredClone(res);
    stopped.status = 'aborted';
    stopped.runs[1]!.status = 'aborted';
    stopped.runs[1]!.rounds = stopped.runs[1]!.rounds.slice(0, 2);
    writeFileSync(join(dir, 'stopped.json'), JSON.stringify(stopped));
    const r = await cli(['--resume', join(dir, 'stopped.json')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('6 completed rounds kept (status aborted)');
    const resumed = JSON.parse(readFileSync(join(dir, 'stopped.json'), 'utf8')) as ExperimentResults; // written in place
    const rounds = (x: ExperimentResults) => x.runs.map((run) => [run.status, run.rounds.map(({ ms: _ms, ...rest }) => rest)]);
    expect(resumed.status).toBe('complete');
    expect(rounds(resumed)).toEqual(rounds(res));

    // Only --backend and --out go with --resume; a corrupt or mismatched file is refused by name.
    const mixed = await cli(['--resume', join(dir, 'stopped.json'), '--seed', '6']);
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toMatch(/--resume takes the configuration from .*stopped\.json; --seed cannot be given with it/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...stopped, runs: [{ ...stopped.runs[0], rounds: [{ ...stopped.runs[0]!.rounds[0], accuracy: 'high' }] }] }));
    const bad = await cli(['--resume', join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/bad\.json: results\.runs\[0\]\.rounds\[0\]\.accuracy = 'high' is not allowed/);
    const missing = await cli(['--resume', join(dir, 'nowhere.json')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--resume .*nowhere\.json: ENOENT/);
    writeFileSync(join(dir, 'huge.json'), Buffer.alloc(21 * 1024 * 1024, 32));
    const huge = await cli(['--resume', join(dir, 'huge.json')]);
    expect(huge.code).toBe(2);
    expect(huge.stderr).toMatch(/huge\.json = 'a file of 22020096 bytes' is not allowed: a results file of at most 20971520 bytes/);
    const other = structuredClone(stopped);
    other.runs[1]!.rounds[1]!.selected[0] = other.runs[1]!.rounds[0]!.selected[0]!; // asks for a row labeled in round 0
    writeFileSync(join(dir, 'other.json'), JSON.stringify(other));
    const refused = await cli(['--resume', join(dir, 'other.json')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/other\.json: results\.runs\[1\]\.rounds\[1\]\.selected\[0\] = \d+ is not allowed: .*/);
  });

  it('--help documents every flag', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--dataset', '--model', '--strategies', '--initial', '--query', '--rounds', '--repeats', '--seed', '--out', '--balanced',
      '--epochs', '--pool-subset', '--mc-samples', '--target', '--backend', '--preset']) {
      expect(r.stdout).toContain(flag);
    }
  });
});
