/**
 * `npm run experiment` in-process through `main(argv, io)`: every user error exits 2 (or 1) with a
 * message and no stack trace, before any training where it can be known before; a write that
 * fails at the end keeps the rounds in a fallback file. The same runner as separate processes is
 * tests/node/cli.test.ts.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataFileError } from '../../datasets/index.ts';
import { UsageError, helpText } from '../../src/cli/args.ts';
import { main, userError, type CliIo } from '../../src/cli/main.ts';
import { nodeFs, OutputError, type OutputFs } from '../../src/cli/outputs.ts';
import { BackendUnavailableError } from '../../src/backend/index.ts';
import { ConfigError } from '../../src/engine/config.ts';
import { ResumeError } from '../../src/engine/loop.ts';
import type { ExperimentResults } from '../../src/engine/results.ts';
import { parseResultsFile, readResultsFile, ResultsFileError } from '../../src/engine/results-file.ts';

/** A line of a stack trace, as node prints one. */
const STACK_LINE = /^\s+at /m;

async function cli(argv: string[], fs: OutputFs = nodeFs, more: Partial<CliIo> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, fs, ...more };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

/** nodeFs where `create` throws ENOSPC for the paths `fails` picks. */
function failingCreate(fails: (path: string) => boolean): OutputFs {
  return {
    ...nodeFs,
    create(path, data) {
      if (fails(path)) throw Object.assign(new Error(`ENOSPC: no space left on device, open '${path}'`), { code: 'ENOSPC' });
      nodeFs.create(path, data);
    },
  };
}

const rounds = (x: ExperimentResults) => x.runs.map((run) => [run.strategy, run.status, run.rounds.map(({ ms: _ms, ...rest }) => rest)]);

const dir = mkdtempSync(join(tmpdir(), 'activelab-cli-main-'));
// `--jobs 1`: the cells run in this process (the default, a worker process per core, would start two
// processes a run, each loading tfjs; worker processes are sweep.test.ts's subject).
const TINY = ['--dataset', 'moons', '--model', 'logreg', '--strategies', 'entropy,random', '--initial', '10', '--query', '5', '--rounds', '2', '--epochs', '5', '--seed', '3', '--jobs', '1'];
const RESUMABLE = ['--dataset', 'classification', '--model', 'mlp', '--strategies', 'entropy,random', '--initial', '10', '--query', '5',
  '--rounds', '3', '--epochs', '3', '--test-subset', '200', '--seed', '5', '--jobs', '1'];
let tiny: ExperimentResults;

beforeAll(async () => {
  const t = await cli([...TINY, '--out', join(dir, 'tiny.json')]);
  expect(t.code, t.stderr).toBe(0);
  tiny = parseResultsFile(readFileSync(join(dir, 'tiny.json')));
  const full = await cli([...RESUMABLE, '--out', join(dir, 'full.json')]);
  expect(full.code, full.stderr).toBe(0);
  const res = parseResultsFile(readFileSync(join(dir, 'full.json')));
  // What a Ctrl-C during random's round 2 leaves: entropy complete, random with rounds 0 and 1.
  const stopped: ExperimentResults = structuredClone(res);
  stopped.status = 'aborted';
  stopped.runs[1]!.status = 'aborted';
  stopped.runs[1]!.rounds = stopped.runs[1]!.rounds.slice(0, 2);
  writeFileSync(join(dir, 'stopped.json'), JSON.stringify(stopped));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify({ ...stopped, runs: [{ ...stopped.runs[0], rounds: [{ ...stopped.runs[0]!.rounds[0], accuracy: 'high' }] }] }));
  writeFileSync(join(dir, 'huge.json'), Buffer.alloc(21 * 1024 * 1024, 32));
  const other = structuredClone(stopped);
  other.runs[1]!.rounds[1]!.selected[0] = other.runs[1]!.rounds[0]!.selected[0]!; // asks for a row labeled in round 0
  writeFileSync(join(dir, 'other.json'), JSON.stringify(other));
  const drawn = structuredClone(stopped);
  const used = new Set(drawn.runs[1]!.rounds.flatMap((r) => r.selected));
  drawn.runs[1]!.rounds[0]!.selected[0] = [...Array(used.size + 1).keys()].find((i) => !used.has(i))!; // not the initial set this seed draws
  writeFileSync(join(dir, 'drawn.json'), JSON.stringify(drawn));
  writeFileSync(join(dir, 'plain'), 'not a folder');
  mkdirSync(join(dir, 'folder.json'));
}, 120_000);

describe('main: user errors', () => {
  // Every usage error the CLI knows, by where it is caught: the flags, the config, the resumed
  // file, the output paths. Each exits 2 with `error: …` and no stack trace.
  it.each([
    [['--rounds', 'x'], "error: --rounds takes a whole number, got 'x'"],
    [['--frobnicate'], 'error: unknown flag --frobnicate; known flags: --preset'],
    [['stray'], "error: unexpected argument 'stray'; flags take the form --name value"],
    [['--out'], 'error: --out needs a value'],
    [['--balanced=maybe'], "error: --balanced takes true or false, got 'maybe'"],
    [['--strategies', 'bald,entrpy'], "error: config.strategies = 'entrpy' is not allowed: each one of random, entropy"],
    [['--dataset', 'moons', '--model', 'cnn'], "error: config.model = 'cnn' is not allowed: a model for points data (moons); 'cnn' takes image inputs"],
    [['--initial', '5', '--balanced'], 'error: config.initial = 5 is not allowed: at least the number of classes (10) when balanced is true'],
    [['--learning-rate', '0'], 'error: config.learningRate = 0 is not allowed: null (the model default) or a number in (0, 10)'],
    [['--chunk-size', '0'], 'error: config.chunkSize = 0 is not allowed: an integer from 1 to 8192'],
    [['--backend', 'metal'], "error: config.backend = 'metal' is not allowed: one of auto, webgl, webgpu, wasm, cpu"],
    [['--oracle-noise', '1'], "error: config.oracleNoise = 1 is not allowed: a number in [0, 1)"],
    [['--oracle-noise', '-0.1'], "error: config.oracleNoise = -0.1 is not allowed: a number in [0, 1)"],
    [['--stop-when', 'soon'], "error: config.stopWhen = 'soon' is not allowed: one of never, stabilizing, overall-uncertainty, max-confidence"],
    [['--stop-when', 'stabilizing', '--stop-set', '0'], "error: config.stopWhen = 'stabilizing' is not allowed: 'never' when stopSet is 0"],
    [['--preset', 'gal2018'], "error: unknown preset 'gal2018'; known presets: gal2017, kirsch2019"],
    [['--backend', 'webgl'], 'error: --backend webgl exists only in the browser'],
    [['--backend', 'webgpu'], 'error: --backend webgpu exists only in the browser'],
    [['--resume', '<dir>/stopped.json', '--seed', '6'], 'error: --resume takes the configuration from <dir>/stopped.json; --seed cannot be given with it'],
    [['--resume', '<dir>/bad.json'], "error: <dir>/bad.json: results.runs[0].rounds[0].accuracy = 'high' is not allowed"],
    [['--resume', '<dir>/nowhere.json'], 'error: --resume <dir>/nowhere.json: ENOENT'],
    [['--resume', '<dir>/huge.json'], "error: <dir>/huge.json = 'a file of 22020096 bytes' is not allowed: a results file of at most 20971520 bytes"],
    [['--resume', '<dir>/other.json'], /^error: <dir>\/other\.json: results\.runs\[1\]\.rounds\[1\]\.selected\[0\] = \d+ is not allowed: .*/],
    [['--resume', '<dir>/drawn.json', '--out', '<dir>/drawn-out.json'], 'error: <dir>/drawn.json: cannot resume random, repeat 0: its round-0 labeled set is not the one this configuration draws'],
    [[...TINY, '--out', '<dir>/plain/run.json'], 'error: --out: cannot write the results JSON to <dir>/plain/run.json: <dir>/plain is a file, not a folder'],
    [[...TINY, '--out', '<dir>/plain/deeper/run.json'], 'error: --out: cannot write the results JSON to <dir>/plain/deeper/run.json: <dir>/plain is a file, not a folder'],
    [[...TINY, '--out', '<dir>/folder.json'], 'error: --out: cannot write the results JSON to <dir>/folder.json: it is a folder; give a file name'],
    [['--resume', '<dir>/stopped.json', '--out', '<dir>/plain/x.json'], 'error: --out: cannot write the results JSON to <dir>/plain/x.json: <dir>/plain is a file, not a folder'],
  ] as [string[], string | RegExp][])('%j exits 2 with a clear message and no stack trace', async (args, message) => {
    const r = await cli(args.map((a) => a.replace('<dir>', dir)));
    expect(r.code, r.stderr).toBe(2);
    if (typeof message === 'string') expect(r.stderr).toContain(message.replaceAll('<dir>', dir));
    else expect(r.stderr).toMatch(new RegExp(message.source.replaceAll('<dir>', dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')), message.flags));
    expect(r.stderr).toMatch(/^error: /m);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout).toBe('');
  });

  it('a resumed run the engine refuses leaves the resumed file as it was (its rounds are not dropped), exit 2', async () => {
    const before = readFileSync(join(dir, 'drawn.json'));
    const r = await cli(['--resume', join(dir, 'drawn.json'), '--jobs', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${join(dir, 'drawn.json')} is left as it was; nothing is written over it.`);
    expect(r.stderr).not.toContain('computed before the refusal');
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(readFileSync(join(dir, 'drawn.json'))).toEqual(before);
  });

  it('rounds computed before such a refusal go to a fallback file', async () => {
    // entropy stopped after round 1 as well: resuming computes its rounds 2 and 3, then refuses random.
    const both = parseResultsFile(readFileSync(join(dir, 'drawn.json')));
    both.runs[0]!.status = 'aborted';
    both.runs[0]!.rounds = both.runs[0]!.rounds.slice(0, 2);
    writeFileSync(join(dir, 'both.json'), JSON.stringify(both));
    const fallbackFolder = join(dir, 'refused');
    mkdirSync(fallbackFolder);
    const r = await cli(['--resume', join(dir, 'both.json'), '--jobs', '1'], nodeFs, { fallbackFolder });
    expect(r.code).toBe(2);
    const kept = /the 2 rounds computed before the refusal are in (\S+) instead/.exec(r.stderr)?.[1];
    expect(kept, r.stderr).toBeDefined();
    expect(dirname(kept!)).toBe(fallbackFolder);
    const res = parseResultsFile(readFileSync(kept!));
    expect(res.runs[0]!.rounds.map((x) => x.round)).toEqual([0, 1, 2, 3]);
    expect(readFileSync(join(dir, 'both.json'), 'utf8')).toBe(JSON.stringify(both));
  });

  it('a refused output path stops before the backend starts or anything is written', async () => {
    const r = await cli([...TINY, '--out', join(dir, 'plain', 'run.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('ActiveLab:');
    expect(readFileSync(join(dir, 'plain'), 'utf8')).toBe('not a folder');
  });

  it.each([
    [new UsageError('--x takes y'), 2, 'error: --x takes y\n(run with --help for every flag)'],
    [new ConfigError('rounds', -1, 'an integer from 0'), 2, 'error: config.rounds = -1 is not allowed: an integer from 0\n(run with --help for every flag)'],
    [new ResultsFileError('results.status', 'odd', 'one of complete, aborted, failed'), 2, "error: results.status = 'odd' is not allowed: one of complete, aborted, failed\n(run with --help for every flag)"],
    [new ResumeError('a.json: cannot resume: config.seed is 1 now but was 2'), 2, 'error: a.json: cannot resume: config.seed is 1 now but was 2'],
    [new BackendUnavailableError('gpu', 'unknown backend; known: webgl, wasm, cpu'), 2, "error: backend 'gpu' is unavailable: unknown backend; known: webgl, wasm, cpu"],
    [new OutputError({ what: 'CSV', flag: '--out', path: '/x.csv', kind: 'file' }, 'why'), 2, 'error: --out: cannot write the CSV to /x.csv: why'],
    [new DataFileError('mnist-train-images', 'not found: run npm run prepare:data'), 1, 'error: mnist-train-images: not found: run npm run prepare:data'],
  ])('%s is a user error: exit %i, a message without a stack', (err, code, message) => {
    expect(userError(err)).toEqual({ code, message });
  });

  it('anything else is a bug: main rethrows it for the entry point to print with its stack', async () => {
    expect(userError(new TypeError('x is undefined'))).toBeNull();
    const broken = { write: () => { throw new TypeError('a bug'); } };
    await expect(cli(['--help'], nodeFs, { stdout: broken })).rejects.toThrow(TypeError);
  });

  it('--help prints the help and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r).toEqual({ code: 0, stdout: `${helpText()}\n`, stderr: '' });
  });
});

describe('main: resuming', () => {
  it('resumes a stopped run in-process, and a complete run to another --out unchanged', async () => {
    const full = parseResultsFile(readFileSync(join(dir, 'full.json')));
    writeFileSync(join(dir, 'stopped-copy.json'), readFileSync(join(dir, 'stopped.json')));
    const r = await cli(['--resume', join(dir, 'stopped-copy.json'), '--jobs', '1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('6 completed rounds kept (status aborted)');
    expect(rounds(parseResultsFile(readFileSync(join(dir, 'stopped-copy.json'))))).toEqual(rounds(full));
    const again = await cli(['--resume', join(dir, 'full.json'), '--backend', 'cpu', '--jobs', '1', '--out', join(dir, 'again', 'run.json')]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain('8 completed rounds kept (status complete)');
    expect(again.stderr).toContain('backend cpu');
    expect(rounds(parseResultsFile(readFileSync(join(dir, 'again', 'run.json'))))).toEqual(rounds(full));
    expect(readdirSync(join(dir, 'again')).sort()).toEqual(['run.csv', 'run.json', 'run.svg']);
  });
});

describe('main: writing the results at the end', () => {
  it('when the results JSON cannot be written at the end, the results go to a fallback file in the temporary folder, exit 1', async () => {
    const out = join(dir, 'late', 'run.json');
    // The pre-flight's probes succeed; the writes at the end (temporary files ending .tmp) fail.
    const r = await cli([...TINY, '--out', out], failingCreate((p) => p.startsWith(join(dir, 'late')) && p.endsWith('.tmp')));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: could not write the results JSON to ${out}: no space left on the device (ENOSPC)`);
    expect(r.stderr).toContain(`error: could not write the CSV to ${join(dir, 'late', 'run.csv')}: no space left on the device (ENOSPC)`);
    expect(r.stderr).toContain(`error: could not write the SVG chart to ${join(dir, 'late', 'run.svg')}: no space left on the device (ENOSPC)`);
    expect(r.stderr).not.toMatch(STACK_LINE);
    const fallback = /error: the results are in (\S+) instead/.exec(r.stderr)?.[1];
    expect(fallback, r.stderr).toBeDefined();
    expect(dirname(fallback!)).toBe(tmpdir());
    const kept = await readResultsFile(new Blob([readFileSync(fallback!)]));
    unlinkSync(fallback!);
    expect(kept.status).toBe('complete');
    expect(rounds(kept)).toEqual(rounds(tiny));
    expect(r.stdout).toContain('complete: 6 rounds');
    expect(r.stdout).not.toContain('wrote ');
  });

  it('when the fallback cannot be written either, the results JSON goes to stdout', async () => {
    const out = join(dir, 'later', 'run.json');
    const fallbackFolder = join(dir, 'fallback');
    mkdirSync(fallbackFolder);
    const r = await cli([...TINY, '--out', out], failingCreate((p) => p.endsWith('.tmp') || p.startsWith(fallbackFolder)), { fallbackFolder });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: the results could not be written to ${fallbackFolder} either (no space left on the device (ENOSPC)); their results JSON follows on stdout`);
    const json = r.stdout.slice(0, r.stdout.indexOf('\n\nstrategy') + 1);
    expect(rounds(parseResultsFile(json))).toEqual(rounds(tiny));
  });

  it('when only the CSV cannot be written, the results JSON and the chart are, exit 1', async () => {
    const out = join(dir, 'csv', 'run.json');
    const r = await cli([...TINY, '--out', out], failingCreate((p) => p.startsWith(join(dir, 'csv', '.run.csv.')) && p.endsWith('.tmp')));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: could not write the CSV to ${join(dir, 'csv', 'run.csv')}: no space left on the device (ENOSPC)`);
    expect(r.stderr).not.toContain('the results are in');
    expect(r.stdout).toContain(`wrote ${out}`);
    expect(r.stdout).toContain(`wrote ${join(dir, 'csv', 'run.svg')}`);
    expect(rounds(parseResultsFile(readFileSync(out)))).toEqual(rounds(tiny));
  });
});
