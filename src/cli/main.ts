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
import { existsSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { DataFileError, DatasetDescriptionError } from '../../datasets/index.ts';
import { checkClassSizes, materialize, type UserDatasetRecord } from '../../datasets/user/data.ts';
import { UserDataError } from '../../datasets/user/errors.ts';
import type { Dataset } from '../../datasets/types.ts';
import { BackendUnavailableError } from '../backend/index.ts';
import { ConfigError, resolveConfig, type ExperimentConfig } from '../engine/config.ts';
import { ResumeError } from '../engine/loop.ts';
import { resultsToCsv, summarize, type ExperimentResults, type RunRecord } from '../engine/results.ts';
import { MAX_RESULTS_FILE_BYTES, parseResultsFile, ResultsFileError } from '../engine/results-file.ts';
import { helpText, parseArgs, UsageError } from './args.ts';
import { isJournalText, Journal, parseJournal, readJournal, resultsPathFor } from './journal.ts';
import { checkOutputs, fsReason, nodeFs, OutputError, plannedOutputs, writeFallback, writeOutputFile, type OutputFs, type OutputTarget, type RunOutputs } from './outputs.ts';
import { formatDuration, SweepProgress, type TextOut } from './progress.ts';
import { renderChartSvg, summaryTable } from './report.ts';
import { allCells, cellKey, cellName, inCellOrder, parseShard, shardCells, type Shard } from './shard.ts';
import { Sweep } from './sweep.ts';
import { openUserData, type OpenedUserData } from './user-data.ts';

/** --save-models' writer of each run's final model (in cell-runner.ts: the sweep's worker processes write with it too). */
export { modelSaver } from './cell-runner.ts';

export interface CliIo {
  stdout: TextOut;
  /** Messages, warnings and the progress bar. */
  stderr: TextOut;
  fs: OutputFs;
  /** Where the results go when their own path cannot be written at the end; default os.tmpdir(). */
  fallbackFolder?: string;
  /** Environment variables (`--shard env/N` reads JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
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
  if (err instanceof ResumeError || err instanceof BackendUnavailableError || err instanceof UserDataError || err instanceof DatasetDescriptionError) return { message: `error: ${err.message}`, code: 2 };
  if (err instanceof DataFileError) return { message: `error: ${err.message}`, code: 1 };
  return null;
}

/** A results JSON or a journal read back, checked field by field. */
export interface RunFile {
  results: ExperimentResults;
  journal: boolean;
  warnings: string[];
}

/**
 * A results JSON or journal (told apart by its first line), size-checked before it is read and
 * validated field by field. `flag` prefixes the message when the file cannot be read.
 */
export function readRunFile(path: string, flag = '--resume'): RunFile {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (err) {
    throw new UsageError(`${flag ? `${flag} ` : ''}${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (size > MAX_RESULTS_FILE_BYTES) {
    throw new ResultsFileError(path, `a file of ${size} bytes`, `a results file of at most ${MAX_RESULTS_FILE_BYTES} bytes`);
  }
  const bytes = readFileSync(path);
  const text = bytes.toString('utf8');
  if (isJournalText(text)) {
    const j = parseJournal(text, path);
    return { results: j.results, journal: true, warnings: j.warnings };
  }
  try {
    return { results: parseResultsFile(bytes), journal: false, warnings: [] };
  } catch (err) {
    if (err instanceof ResultsFileError) err.message = `${path}: ${err.message}`;
    throw err;
  }
}

/**
 * The journal beside a resumed results file, if there is one of the same run: a run resumed from
 * its results file and then killed leaves its newer rounds there only.
 */
function journalBeside(path: string, config: ExperimentConfig, hash: string | null, warn: (line: string) => void): ExperimentResults | null {
  if (!existsSync(path)) return null;
  try {
    const j = readJournal(path);
    for (const w of j.warnings) warn(`warning: ${w}`);
    if ((j.results.dataset?.hash ?? null) !== hash) return null;
    return JSON.stringify({ ...j.results.config, backend: null }) === JSON.stringify({ ...config, backend: null }) ? j.results : null;
  } catch (err) {
    warn(`warning: ignored the journal ${path}: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNAL_CODE: Record<(typeof SIGNALS)[number], number> = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

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
export async function saveResults(results: ExperimentResults, outputs: Omit<RunOutputs, 'journal'>, io: CliIo): Promise<{ written: string[]; failures: string[] }> {
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

/** The ResumeError a cell's run failed with (its error names the error class; it crossed a process), or null. */
function refusal(run: RunRecord): string | null {
  return run.status === 'failed' && run.error?.startsWith(`${ResumeError.name}: `) ? run.error.slice(ResumeError.name.length + 2) : null;
}

/**
 * A resumed run whose kept rounds do not fit this configuration (the engine refuses it when it
 * reaches that run): the resumed file is left as it was, since writing the results over it would
 * drop the refused run's rounds; rounds computed in this process (by the other cells, or before
 * the refusal) go to a fallback file. Exit code 2.
 */
function refusedResume(results: ExperimentResults, prior: ExperimentResults, resume: string, io: CliIo): number {
  const before = new Map(prior.runs.map((r) => [cellKey(r), r.rounds.length]));
  const computed = results.runs.reduce((a, r) => a + Math.max(0, r.rounds.length - (before.get(cellKey(r)) ?? 0)), 0);
  const lines = [...results.runs.map(refusal).filter((m) => m !== null).map((m) => `error: ${resume}: ${m}`), `${resume} is left as it was; nothing is written over it.`];
  if (computed > 0) lines.push(`the ${computed} round${computed === 1 ? '' : 's'} computed before the refusal ${keep(results, io)}`);
  io.stderr.write(`${lines.join('\n')}\n`);
  return 2;
}

export async function main(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  return reportingUserErrors(io, () => run(argv, io));
}

/**
 * Runs a command, turning a user error into its message on stderr (no stack) and its exit code;
 * `help` replaces the pointer to --help at the end of a usage error's message.
 */
export async function reportingUserErrors(io: CliIo, command: () => Promise<number>, help?: string): Promise<number> {
  try {
    return await command();
  } catch (err) {
    const known = userError(err);
    if (!known) throw err;
    io.stderr.write(`${help === undefined ? known.message : known.message.replace('(run with --help for every flag)', help)}\n`);
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
  let shard: Shard | null = null;
  let user: OpenedUserData | null = null;
  if (opts.resume !== null) {
    const resumed = readRunFile(opts.resume);
    for (const w of resumed.warnings) warn(`warning: ${w}`);
    prior = resumed.results;
    shard = prior.shard ?? null;
    if (prior.dataset) user = await openUserData(opts, prior.dataset, warn);
    else if (opts.data !== null) throw new ResumeError(`--resume ${opts.resume} was made on the built-in dataset '${prior.config.dataset}', not on your own data: --data cannot be given with it`);
    config = resolveConfig({ ...prior.config, ...(opts.given.includes('backend') ? { backend: opts.config.backend ?? 'auto' } : {}) }, user ? { datasets: user.datasets } : {});
    if (!opts.outGiven) opts.out = resumed.journal ? resultsPathFor(opts.resume) : opts.resume;
  } else {
    if (opts.data !== null) user = await openUserData(opts, null, warn);
    config = resolveConfig(user ? { ...opts.config, dataset: user.data.name } : opts.config, user ? { datasets: user.datasets } : {});
    shard = opts.shard === null ? null : parseShard(opts.shard, io.env ?? process.env);
  }
  // The user's rows split (seeded) and standardized for this config; refused when a class is too small.
  let dataset: Dataset<string> | null = null;
  let datasetRecord: UserDatasetRecord | null = null;
  if (user) {
    const m = materialize(user.data, config.seed);
    checkClassSizes(user.data, m.dataset.train, config);
    dataset = m.dataset;
    datasetRecord = m.record;
  }
  if (config.backend === 'webgl' || config.backend === 'webgpu') throw new UsageError(`--backend ${config.backend} exists only in the browser (npm start); use wasm or cpu in Node`);
  const outputs = plannedOutputs(opts);
  for (const input of user ? [user.data.source.data, user.data.source.test] : []) {
    const hit = input === null ? undefined : Object.values(outputs).find((o) => o && resolve(o.path) === resolve(input));
    if (hit) throw new UsageError(`--out ${opts.out} would write its ${hit.what} over ${input}, the data: choose another --out`);
  }
  checkOutputs(Object.values(outputs), io.fs);

  // The cells of this run (a shard's, or all), and what an earlier run of them left.
  const cells = shardCells(allCells(config), shard);
  const inShard = new Set(cells.map(cellKey));
  const kept = new Map<string, RunRecord>();
  if (prior) {
    const outside = prior.runs.filter((r) => !inShard.has(cellKey(r)));
    if (outside.length > 0) throw new UsageError(`--resume ${opts.resume}: it holds ${outside.map(cellName).join(', ')}, which shard ${shard!.index}/${shard!.count} does not have`);
    for (const r of prior.runs) kept.set(cellKey(r), r);
    // A journal beside the resumed results file may hold rounds completed after it was written.
    const beside = resolve(opts.resume!) === outputs.journal.path ? null : journalBeside(outputs.journal.path, config, user?.data.hash ?? null, warn);
    let more = 0;
    for (const r of beside?.runs ?? []) {
      const k = kept.get(cellKey(r));
      if (inShard.has(cellKey(r)) && r.rounds.length > (k?.rounds.length ?? 0)) {
        more += r.rounds.length - (k?.rounds.length ?? 0);
        kept.set(cellKey(r), r);
      }
    }
    if (more > 0) warn(`the journal ${outputs.journal.path} holds ${more} completed round${more === 1 ? '' : 's'} more than ${opts.resume}: they are kept too`);
  }
  const bar = new SweepProgress(io.stderr);
  let journal: Journal | null = null;
  let journalFailed = false;
  const journaled = (f: (j: Journal) => void) => {
    try {
      if (journal && !journalFailed) f(journal);
    } catch (err) {
      journalFailed = true;
      bar.log(`warning: cannot write the journal ${outputs.journal.path} (${fsReason(err)}): the rounds from here on are kept in memory only until the results are written`);
    }
  };
  const sweep = new Sweep({
    config, cells, prior: kept, dataset, jobs: opts.jobs ?? availableParallelism(), models: outputs.models ? { folder: outputs.models.path, fs: io.fs } : null,
    hooks: {
      cellStarted: (w, cell) => {
        const k = kept.get(cellKey(cell))?.rounds.length ?? 0;
        bar.log(`worker ${w.worker} (pid ${w.pid}): ${cellName(cell)}${k > 0 ? `, continuing after round ${k - 1}` : ''}`);
      },
      round: (w, cell, record) => {
        journaled((j) => j.appendRound(cell, record));
        bar.round(w.worker, cell, record);
      },
      event: (w, _cell, e) => bar.event(w.worker, e),
      cellEnded: (w, r) => {
        journaled((j) => j.appendRun(r));
        bar.idle(w.worker);
        if (r.status === 'failed') bar.log(`error: ${cellName(r)}: ${r.error ?? 'failed'}`);
      },
      log: (w, line) => bar.log(`worker ${w.worker}: ${line}`),
    },
  });
  const toRun = new Set(sweep.toRun.map(cellKey));
  const where = sweep.inProcess ? 'in this process' : `in ${sweep.workerCount} worker processes`;
  const keptRounds = [...kept.values()].reduce((a, r) => a + r.rounds.length, 0);
  warn(`ActiveLab: ${config.strategies.join(', ')} on ${config.dataset} with ${config.model}, backend ${config.backend === 'auto' ? 'wasm (auto)' : config.backend}, seed ${config.seed}: ` +
    `${cells.length} cell${cells.length === 1 ? '' : 's'}${shard ? ` (shard ${shard.index}/${shard.count})` : ''}, ${toRun.size} to run ${where}`);
  if (prior) warn(`resuming ${opts.resume}: ${keptRounds} completed round${keptRounds === 1 ? '' : 's'} kept (status ${prior.status})`);
  if (cells.length === 0) warn(`warning: shard ${shard!.index}/${shard!.count} has no cells: the configuration has ${allCells(config).length}`);

  // One worker: the backend and data are set up here, so that their errors are reported as such.
  await sweep.prepare();
  const started = new Date();
  const t0 = performance.now();
  try {
    journal = Journal.create(outputs.journal.path, { config, shard, startedAt: started.toISOString(), ...(datasetRecord ? { dataset: datasetRecord } : {}) }, inCellOrder(config, [...kept.values()]), io.fs);
  } catch (err) {
    warn(`warning: cannot write the journal ${outputs.journal.path} (${fsReason(err)}): the completed rounds are kept in memory only until the results are written`);
  }
  const total = cells.reduce((a, c) => a + (toRun.has(cellKey(c)) ? config.rounds + 1 : (kept.get(cellKey(c))?.rounds.length ?? 0)), 0);
  bar.start(total, keptRounds);

  // SIGINT, SIGTERM, SIGHUP: stop after the current step and write what is done; a second one
  // stops at once (worker processes are killed; in this process, the journal keeps the rounds).
  let stoppedBy: (typeof SIGNALS)[number] | null = null;
  const onSignal = (sig: (typeof SIGNALS)[number]) => {
    if (stoppedBy === null) {
      stoppedBy = sig;
      bar.log(`\n${sig}: stopping after the current step (${sig === 'SIGINT' ? 'Ctrl-C' : sig} again to stop at once)…`);
      sweep.stop();
    } else if (!sweep.inProcess) {
      bar.log(`${sig}: killing the workers; the rounds they completed are kept`);
      sweep.kill();
    } else {
      bar.end();
      warn(`${sig}: stopped at once; the completed rounds are in ${outputs.journal.path} (continue with --resume ${outputs.journal.path})`);
      journal?.close();
      process.exit(SIGNAL_CODE[stoppedBy]);
    }
  };
  const handlers = SIGNALS.map((sig) => [sig, () => onSignal(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  let outcome;
  try {
    outcome = await sweep.start();
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    bar.end();
  }
  if (outcome.fatal) warn(`error: ${outcome.fatal}`);

  const runs = outcome.runs;
  const failed = runs.filter((r) => r.status === 'failed');
  const status: ExperimentResults['status'] = outcome.fatal || failed.length > 0 ? 'failed' : stoppedBy !== null || runs.length < cells.length || runs.some((r) => r.status === 'aborted') ? 'aborted' : 'complete';
  const workers = outcome.workers;
  const results: ExperimentResults = {
    version: 1,
    config,
    environment: outcome.environment,
    status,
    startedAt: started.toISOString(),
    elapsedMs: Math.round(performance.now() - t0),
    runs,
    summary: summarize(runs, config.target),
    memory: {
      peakBytes: Math.max(0, ...workers.map((w) => w.peakTensorBytes), prior?.memory?.peakBytes ?? 0),
      peakTensors: Math.max(0, ...workers.map((w) => w.peakTensors), prior?.memory?.peakTensors ?? 0),
    },
    ...(shard ? { shard } : {}),
    workers,
    ...(datasetRecord ? { dataset: datasetRecord } : {}),
  };
  if (prior && runs.some((r) => refusal(r) !== null)) {
    journal?.close();
    return refusedResume(results, prior, opts.resume!, io);
  }
  const saved = await saveResults(results, outputs, io);
  if (saved.written.includes(outputs.json.path)) journal?.remove();
  else journal?.close();
  const written = [...saved.written, ...outcome.models.written];
  const failures = [...saved.failures, ...outcome.models.failures];
  say(`\n${summaryTable(results)}\n`);
  const roundsDone = runs.reduce((a, r) => a + r.rounds.length, 0);
  say(`${results.status}: ${roundsDone} rounds${cells.length > 1 ? ` of ${cells.length} cells` : ''} in ${formatDuration(results.elapsedMs)}${failed.length ? `; failed: ${failed.map(cellName).join(', ')}` : ''}`);
  for (const w of workers) {
    say(`worker ${w.worker} (pid ${w.pid}): ${w.cells.length} cell${w.cells.length === 1 ? '' : 's'}, peak RSS ${mib(w.peakRssBytes)}, peak tensor memory ${mib(w.peakTensorBytes)} in ${w.peakTensors} tensors${w.exit ? `; ${w.exit}` : ''}`);
  }
  if (!sweep.inProcess) say(`main process (pid ${process.pid}): peak RSS ${mib(process.resourceUsage().maxRSS * 1024)}`);
  for (const f of written) say(`wrote ${f}`);
  for (const f of failures) warn(`error: ${f}`);
  if (!written.includes(outputs.json.path) && journal) warn(`the journal ${outputs.journal.path} keeps the completed rounds too`);
  if (stoppedBy !== null) return SIGNAL_CODE[stoppedBy];
  return failures.length > 0 || status === 'failed' ? 1 : 0;
}
