/**
 * `npm run experiment -- [flags]`: the active-learning loop headless in Node on wasm.
 * Writes <out>.json, <out>.csv and <out>.svg and prints a summary table. See `--help`.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadDataset } from '../../datasets/index.ts';
import { nodeSource } from '../../datasets/source-node.ts';
import { backendInfo, useBackend } from '../backend/index.ts';
import { trackPeakMemory } from '../backend/memory.ts';
import { ConfigError, resolveConfig, type ExperimentConfig } from '../engine/config.ts';
import { ExperimentError, ResumeError, runExperiment } from '../engine/loop.ts';
import { resultsToCsv, type ExperimentResults } from '../engine/results.ts';
import { MAX_RESULTS_FILE_BYTES, parseResultsFile, ResultsFileError } from '../engine/results-file.ts';
import { renderChartSvg, summaryTable } from './report.ts';
import { helpText, parseArgs, UsageError } from './args.ts';
import { formatDuration, ProgressBar } from './progress.ts';

function writeOutputs(results: ExperimentResults, out: string): string[] {
  const json = resolve(out);
  mkdirSync(dirname(json), { recursive: true });
  const stem = json.replace(/\.json$/i, '');
  writeFileSync(json, JSON.stringify(results, null, 1) + '\n');
  writeFileSync(`${stem}.csv`, resultsToCsv(results));
  return [json, `${stem}.csv`];
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

async function main(argv: string[]): Promise<number> {
  let opts;
  let config: ExperimentConfig;
  let prior: ExperimentResults | null = null;
  try {
    opts = parseArgs(argv);
    if (opts.help) {
      console.log(helpText());
      return 0;
    }
    if (opts.resume !== null) {
      prior = readResults(opts.resume);
      config = resolveConfig({ ...prior.config, ...(opts.given.includes('backend') ? { backend: opts.config.backend ?? null } : {}) });
      if (!opts.outGiven) opts.out = opts.resume;
    } else {
      config = resolveConfig(opts.config);
    }
    if (config.backend === 'webgl') throw new UsageError('--backend webgl exists only in the browser (npm start); use wasm or cpu in Node');
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError || err instanceof ResultsFileError) {
      console.error(`error: ${err.message}\n(run with --help for every flag)`);
      return 2;
    }
    throw err;
  }
  await useBackend(config.backend ?? 'wasm');
  const info = backendInfo();
  console.error(`ActiveLab: ${config.strategies.join(', ')} on ${config.dataset} with ${config.model}, backend ${info.backend}${info.wasmSimd ? ' (SIMD)' : ''}, seed ${config.seed}`);
  if (prior) {
    const kept = prior.runs.reduce((a, r) => a + r.rounds.length, 0);
    console.error(`resuming ${opts.resume}: ${kept} completed round${kept === 1 ? '' : 's'} kept (status ${prior.status})`);
  }
  const dataset = await loadDataset(config.dataset, { source: nodeSource(), seed: config.seed });
  const bar = new ProgressBar(process.stderr);
  const ctrl = new AbortController();
  process.once('SIGINT', () => {
    console.error('\nstopping after the current step (Ctrl-C again to kill)…');
    ctrl.abort();
  });
  let results: ExperimentResults;
  let code = 0;
  const peak = trackPeakMemory();
  try {
    results = await runExperiment(config, dataset, { signal: ctrl.signal, onEvent: (e) => bar.onEvent(e), ...(prior ? { resume: prior } : {}) });
  } catch (err) {
    if (err instanceof ResumeError) {
      console.error(`error: ${opts.resume}: ${err.message}`);
      return 2;
    }
    if (!(err instanceof ExperimentError)) throw err;
    console.error(`\nerror: ${err.message}\nthe rounds completed before it are written below.`);
    results = err.results;
    code = 1;
  }
  results.memory = peak.stop();
  const files = writeOutputs(results, opts.out);
  const svgPath = files[0]!.replace(/\.json$/i, '') + '.svg';
  writeFileSync(svgPath, await renderChartSvg(results));
  files.push(svgPath);
  console.log(`\n${summaryTable(results)}\n`);
  console.log(`${results.status}: ${results.runs.reduce((a, r) => a + r.rounds.length, 0)} rounds in ${formatDuration(results.elapsedMs)}`);
  console.log(`peak tensor memory: ${(results.memory.peakBytes / 2 ** 20).toFixed(1)} MiB in ${results.memory.peakTensors} tensors`);
  for (const f of files) console.log(`wrote ${f}`);
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
