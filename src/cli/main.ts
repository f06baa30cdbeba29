/**
 * `npm run experiment -- [flags]` as a function: `main(argv, io)` returns the exit code instead of
 * exiting, and writes only through `io`, so tests run it in-process. `experiment.ts` is the entry
 * point that calls it with the process's streams and exits.
 *
 * Order: flags, the resumed file and the config are checked, then every output path
 * (`checkOutputs`), and only then the backend starts, the data loads and training runs. A user
 * error (bad flag, config, resumed file or output path, a backend that cannot start, a missing
 * data file) prints `error: …` without a stack trace; anything else is a bug and keeps its stack.
 */
import { readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { DataFileError, loadDataset } from '../../datasets/index.ts';
import { exportFiles, type ModelExport } from '../../models/export.ts';
import { nodeSource } from '../../datasets/source-node.ts';
import type { BackendChoiceRecord } from '../backend/auto-choice.ts';
import { BackendUnavailableError, backendInfo, useBackend, type BackendName } from '../backend/index.ts';
import { trackPeakMemory } from '../backend/memory.ts';
import { ConfigError, resolveConfig, type ExperimentConfig } from '../engine/config.ts';
import { ExperimentError, ResumeError, runExperiment, type FinalModelRun } from '../engine/loop.ts';
import { resultsToCsv, type ExperimentResults } from '../engine/results.ts';
import { MAX_RESULTS_FILE_BYTES, parseResultsFile, ResultsFileError } from '../engine/results-file.ts';
import { helpText, parseArgs, UsageError } from './args.ts';
import { checkOutputs, fsReason, nodeFs, OutputError, plannedOutputs, writeFallback, writeModelFolder, writeOutputFile, type OutputFs, type OutputTarget, type RunOutputs } from './outputs.ts';
import { formatDuration, ProgressBar, type TextOut } from './progress.ts';
import { renderChartSvg, summaryTable } from './report.ts';

export interface CliIo {
  stdout: TextOut;
  /** Messages, warnings and the progress bar. */
  stderr: TextOut;
  fs: OutputFs;
  /** Where the results go when their own path cannot be written at the end; default os.tmpdir(). */
  fallbackFolder?: string;
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr, fs: nodeFs };

/**
 * The message and exit code of an error the user can act on, or null for anything else (a bug,
 * reported with its stack).
 */
export function userError(err: unknown): { message: string; code: number } | null {
  if (err instanceof OutputError) return { message: `error: ${err.message}`, code: 2 };
  if (err instanceof UsageError || err instanceof ConfigError || err instanceof ResultsFileError) {
    return { message: `error: ${err.message}\n(run with --help for every flag)`, code: 2 };
  }
  if (err instanceof ResumeError || err instanceof BackendUnavailableError) return { message: `error: ${err.message}`, code: 2 };
  if (err instanceof DataFileError) return { message: `error: ${err.message}`, code: 1 };
  return null;
}

/** A results JSON to resume, size-checked before it is read and validated field by field. */
function readResults(path: string): ExperimentResults {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw new UsageError(`--resume ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (size > MAX_RESULTS_FILE_BYTES) {
    throw new ResultsFileError(path, `a file of ${size} bytes`, `a results file of at most ${MAX_RESULTS_FILE_BYTES} bytes`);
  }
  try {
    return parseResultsFile(readFileSync(path));
  } catch (err) {
    if (err instanceof ResultsFileError) err.message = `${path}: ${err.message}`;
    throw err;
  }
}

/**
 * Keeps results whose own path failed: in a new file in the temporary folder or, if even that
 * cannot be written, on stdout. Returns the end of the sentence that says where they are.
 */
function keep(results: ExperimentResults, io: CliIo, text = JSON.stringify(results, null, 1) + '\n'): string {
  const folder = io.fallbackFolder ?? tmpdir();
  try {
    const path = writeFallback(text, 'activelab-results', io.fs, folder);
    return `are in ${path} instead (continue or re-export with --resume ${path} --out <path>)`;
  } catch (err) {
    io.stdout.write(text);
    return `could not be written to ${folder} either (${fsReason(err)}); their results JSON follows on stdout`;
  }
}

/**
 * Writes the results JSON, the CSV and the chart. Each failure is a line of the returned
 * `failures`; when the results JSON itself cannot be written it goes to a fallback file in the
 * temporary folder (or, if even that fails, to stdout), so no computed round is lost.
 */
async function saveResults(results: ExperimentResults, outputs: RunOutputs, io: CliIo): Promise<{ written: string[]; failures: string[] }> {
  const written: string[] = [];
  const failures: string[] = [];
  const text = JSON.stringify(results, null, 1) + '\n';
  const save = async (target: OutputTarget, data: () => string | Promise<string>): Promise<boolean> => {
    try {
      writeOutputFile(target.path, await data(), io.fs);
      written.push(target.path);
      return true;
    } catch (err) {
      failures.push(`could not write the ${target.what} to ${target.path}: ${fsReason(err)}`);
      return false;
    }
  };
  if (!(await save(outputs.json, () => text))) failures.push(`the results ${keep(results, io, text)}`);
  await save(outputs.csv, () => resultsToCsv(results));
  await save(outputs.svg, () => renderChartSvg(results));
  return { written, failures };
}

/**
 * A resumed run whose kept rounds do not fit this configuration (the engine refuses it when it
 * reaches that run): the resumed file is left as it was, since writing the results over it would
 * drop the refused run's rounds; rounds computed in this process before the refusal go to a
 * fallback file. Exit code 2.
 */
function refusedResume(err: ExperimentError, prior: ExperimentResults, resume: string, io: CliIo): number {
  const before = new Map(prior.runs.map((r) => [`${r.strategy}#${r.repeat}`, r.rounds.length]));
  const computed = err.results.runs.reduce((a, r) => a + Math.max(0, r.rounds.length - (before.get(`${r.strategy}#${r.repeat}`) ?? 0)), 0);
  const lines = [`error: ${resume}: ${(err.cause as ResumeError).message}`, `${resume} is left as it was; nothing is written over it.`];
  if (computed > 0) lines.push(`the ${computed} round${computed === 1 ? '' : 's'} computed before the refusal ${keep(err.results, io)}`);
  io.stderr.write(`${lines.join('\n')}\n`);
  return 2;
}

/**
 * --save-models: writes each run's final model into its folder as soon as the run finishes, so a
 * later failure keeps it. A write that fails is kept for the end (exit code 1); the runs go on.
 * Each run writes only its own `<strategy>-r<repeat>` folder, so processes that run different
 * cells can share one DIR.
 */
export function modelSaver(folder: string, io: CliIo) {
  const written: string[] = [];
  const failures: string[] = [];
  const onFinalModel = (run: FinalModelRun, model: ModelExport) => {
    try {
      written.push(`${writeModelFolder(folder, run, exportFiles(model), io.fs)} (model.json, weights.bin)`);
    } catch (err) {
      failures.push(`could not write the final model of ${run.strategy}, repeat ${run.repeat} to ${folder}: ${fsReason(err)}`);
    }
  };
  return { written, failures, onFinalModel };
}

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (err) {
    const known = userError(err);
    if (!known) throw err;
    io.stderr.write(`${known.message}\n`);
    return known.code;
  }
}

async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const say = (line: string) => io.stdout.write(`${line}\n`);
  const warn = (line: string) => io.stderr.write(`${line}\n`);
  const opts = parseArgs(argv);
  if (opts.help) {
    say(helpText());
    return 0;
  }
  let config: ExperimentConfig;
  let prior: ExperimentResults | null = null;
  if (opts.resume !== null) {
    prior = readResults(opts.resume);
    config = resolveConfig({ ...prior.config, ...(opts.given.includes('backend') ? { backend: opts.config.backend ?? 'auto' } : {}) });
    if (!opts.outGiven) opts.out = opts.resume;
  } else {
    config = resolveConfig(opts.config);
  }
  if (config.backend === 'webgl') throw new UsageError('--backend webgl exists only in the browser (npm start); use wasm or cpu in Node');
  const outputs = plannedOutputs(opts);
  checkOutputs(Object.values(outputs), io.fs);

  // In Node 'auto' is wasm: WebGL does not exist here, and cpu is the slow reference.
  const backendChoice: BackendChoiceRecord | null = config.backend === 'auto'
    ? { requested: 'auto', picked: 'wasm', reason: "in Node 'auto' is wasm (no WebGL here; cpu is the slow reference)", timings: [], cached: false }
    : null;
  await useBackend(backendChoice?.picked ?? (config.backend as BackendName));
  const info = backendInfo();
  warn(`ActiveLab: ${config.strategies.join(', ')} on ${config.dataset} with ${config.model}, backend ${info.backend}${info.wasmSimd ? ' (SIMD)' : ''}, seed ${config.seed}`);
  if (prior) {
    const kept = prior.runs.reduce((a, r) => a + r.rounds.length, 0);
    warn(`resuming ${opts.resume}: ${kept} completed round${kept === 1 ? '' : 's'} kept (status ${prior.status})`);
  }
  const dataset = await loadDataset(config.dataset, { source: nodeSource(), seed: config.seed });
  const bar = new ProgressBar(io.stderr);
  const ctrl = new AbortController();
  const onSigint = () => {
    warn('\nstopping after the current step (Ctrl-C again to kill)…');
    ctrl.abort();
  };
  process.once('SIGINT', onSigint);
  let results: ExperimentResults;
  let code = 0;
  const models = outputs.models ? modelSaver(outputs.models.path, io) : null;
  const peak = trackPeakMemory();
  let memory;
  try {
    results = await runExperiment(config, dataset, {
      signal: ctrl.signal, onEvent: (e) => bar.onEvent(e), ...(prior ? { resume: prior } : {}), ...(models ? { onFinalModel: models.onFinalModel } : {}),
      ...(backendChoice ? { backendChoice } : {}),
    });
  } catch (err) {
    if (err instanceof ResumeError) err.message = `${opts.resume}: ${err.message}`;
    if (err instanceof ExperimentError && err.cause instanceof ResumeError && prior) return refusedResume(err, prior, opts.resume!, io);
    if (!(err instanceof ExperimentError)) throw err;
    warn(`\nerror: ${err.message}\nthe rounds completed before it are written below.`);
    results = err.results;
    code = 1;
  } finally {
    memory = peak.stop();
    process.off('SIGINT', onSigint);
  }
  results.memory = memory;
  const saved = await saveResults(results, outputs, io);
  const written = [...saved.written, ...(models?.written ?? [])];
  const failures = [...saved.failures, ...(models?.failures ?? [])];
  say(`\n${summaryTable(results)}\n`);
  say(`${results.status}: ${results.runs.reduce((a, r) => a + r.rounds.length, 0)} rounds in ${formatDuration(results.elapsedMs)}`);
  say(`peak tensor memory: ${(results.memory.peakBytes / 2 ** 20).toFixed(1)} MiB in ${results.memory.peakTensors} tensors`);
  for (const f of written) say(`wrote ${f}`);
  for (const f of failures) warn(`error: ${f}`);
  return failures.length > 0 ? 1 : code;
}
