/**
 * The headless runner as a user runs it: separate processes, files on disk, exit codes. The bad
 * inputs that need no training (flags, config, resumed files, output paths) run in-process
 * through `main` in tests/node/cli-main.test.ts; the flags themselves in cli-args.test.ts.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { helpText } from '../../src/cli/args.ts';
import type { ExperimentResults } from '../../src/engine/index.ts';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

/**
 * One process, its cells in that process (`--jobs 1`): the default (a worker process per core)
 * would start two more processes, each loading tfjs and the data again; sweep.test.ts tests the
 * worker processes. `--help` is run as given.
 */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const own = args[0] === '--help' ? args : [...args, '--jobs', '1'];
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/experiment.ts', ...own], { cwd: ROOT, timeout: 240_000 });
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
      '--epochs', '1', '--pool-subset', '60', '--test-subset', '60', '--mc-samples', '3', '--stop-set', '0', '--chunk-size', '64', '--seed', '11'];
    // --stop-set 0: the default 2000-row stop set would be most of this small CNN run's work (the advice is tested elsewhere).
    // --chunk-size 64: predictions pad each chunk to its size, and 256 rows of CNN for 60 would be
    // most of the rest (7.4 -> 4.8 s a process here).
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
    // No --backend: 'auto', which is wasm in Node, recorded as such.
    expect(res.config.backend).toBe('auto');
    expect(res.environment.backend).toBe('wasm');
    expect(res.environment.backendChoice).toMatchObject({ requested: 'auto', picked: 'wasm', timings: [], cached: false });
    expect(r.stderr).toContain('backend wasm');
    expect(res.runs).toHaveLength(4);
    for (const run of res.runs) {
      for (const round of run.rounds) {
        expect(Object.keys(round).sort()).toEqual(['accuracy', 'agreed', 'calibration', 'classCounts', 'ece', 'labeled', 'labels', 'loss', 'ms', 'round', 'selected', 'selectedScores', 'stopping'].sort());
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

  it('a bad flag and an output path that cannot be written exit 2 before any work, with a message and no stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'activelab-cli-'));
    const flag = await cli(['--rounds', 'x']);
    expect(flag).toEqual({ code: 2, stdout: '', stderr: "error: --rounds takes a whole number, got 'x'\n(run with --help for every flag)\n" });
    writeFileSync(join(dir, 'plain'), 'x');
    const out = join(dir, 'plain', 'run.json');
    const path = await cli(['--dataset', 'moons', '--model', 'logreg', '--strategies', 'entropy', '--rounds', '1', '--out', out]);
    expect(path).toEqual({ code: 2, stdout: '', stderr: `error: --out: cannot write the results JSON to ${out}: ${join(dir, 'plain')} is a file, not a folder\n` });
    expect(readdirSync(dir)).toEqual(['plain']);
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
  });

  it('--help prints the help of every flag and exits 0', async () => {
    expect(await cli(['--help'])).toEqual({ code: 0, stdout: `${helpText()}\n`, stderr: '' });
  });
});
