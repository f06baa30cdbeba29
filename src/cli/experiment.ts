/**
 * `npm run experiment -- [flags]`: the active-learning loop headless in Node on wasm.
 * Writes <out>.json, <out>.csv and <out>.svg and prints a summary table. See `--help`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadDataset } from '../../datasets/index.ts';
import { nodeSource } from '../../datasets/source-node.ts';
import { backendInfo, useBackend } from '../backend/index.ts';
import { trackPeakMemory } from '../backend/memory.ts';
import { ConfigError, resolveConfig, type ExperimentConfig } from '../engine/config.ts';
import { ExperimentError, runExperiment } from '../engine/loop.ts';
import { resultsToCsv, type ExperimentResults } from '../engine/results.ts';
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

async function main(argv: string[]): Promise<number> {
  let opts;
  let config: ExperimentConfig;
  try {
    opts = parseArgs(argv);
    if (opts.help) {
      console.log(helpText());
      return 0;
    }
    config = resolveConfig(opts.config);
    if (config.backend === 'webgl') throw new UsageError('--backend webgl exists only in the browser (npm start); use wasm or cpu in Node');
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      console.error(`error: ${err.message}\n(run with --help for every flag)`);
      return 2;
    }
    throw err;
  }
  await useBackend(config.backend ?? 'wasm');
  const info = backendInfo();
  console.error(`ActiveLab: ${config.strategies.join(', ')} on ${config.dataset} with ${config.model}, backend ${info.backend}${info.wasmSimd ? ' (SIMD)' : ''}, seed ${config.seed}`);
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
    results = await runExperiment(config, dataset, { signal: ctrl.signal, onEvent: (e) => bar.onEvent(e) });
  } catch (err) {
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
