/**
 * `npm run merge -- a.json b.json ... --out all.json`: joins the results files of the shards of
 * one sweep (`--shard I/N`) into the results file the unsharded run writes. The inputs must have
 * the same configuration and disjoint cells (else exit code 2, naming the field or the cell and
 * the files); the summary is computed again from the joined runs. A cell that no input holds, or
 * that did not complete, is named and the exit code is 1; the merged file is still written, its
 * status says so and `absent` lists the missing cells.
 *
 *   mergeResults([{ name: 'a.json', results: a }, { name: 'b.json', results: b }])
 */
import { parseArgs as tokenize } from 'node:util';
import { identityMismatch } from '../../datasets/user/data.ts';
import type { ExperimentConfig } from '../engine/config.ts';
import { summarize, type ExperimentResults, type RunRecord, type WorkerReport } from '../engine/results.ts';
import { UsageError } from './args.ts';
import { processIo, readRunFile, reportingUserErrors, saveResults, type CliIo } from './main.ts';
import { checkOutputs, plannedOutputs } from './outputs.ts';
import { summaryTable } from './report.ts';
import { allCells, cellKey, cellName, inCellOrder, type Cell } from './shard.ts';

/** Inputs that cannot be merged: different configurations, or a cell in two files. */
export class MergeError extends UsageError {}

export interface MergeInput {
  /** For messages: the file name. */
  name: string;
  results: ExperimentResults;
}

export interface Merged {
  results: ExperimentResults;
  /** Cells no input holds. */
  absent: Cell[];
  /** Cells whose run did not complete (aborted or failed), with where they come from. */
  incomplete: { cell: Cell; status: RunRecord['status']; rounds: number; from: string }[];
}

/** The first config field on which `a` and `b` differ, or null. */
function differingField(a: ExperimentConfig, b: ExperimentConfig): keyof ExperimentConfig | null {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof ExperimentConfig)[]);
  for (const k of keys) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return k;
  return null;
}

/**
 * Joins the runs of `inputs` into one results object over the whole configuration.
 * @throws MergeError when two inputs differ in configuration or hold the same cell.
 */
export function mergeResults(inputs: readonly MergeInput[]): Merged {
  if (inputs.length === 0) throw new MergeError('merge needs at least one results file');
  const first = inputs[0]!;
  const config = first.results.config;
  for (const other of inputs.slice(1)) {
    const why = identityMismatch(other.results.dataset ?? null, first.results.dataset ?? null, other.name);
    if (why !== null && (first.results.dataset || other.results.dataset)) throw new MergeError(`${why}, which ${first.name} was made on: shards of one sweep run on one dataset`);
    const k = differingField(config, other.results.config);
    if (k !== null) {
      throw new MergeError(`${first.name} and ${other.name} have different configurations: config.${k} is ${JSON.stringify(config[k])} in ${first.name} and ${JSON.stringify(other.results.config[k])} in ${other.name}`);
    }
  }
  const owner = new Map<string, string>();
  const runs: RunRecord[] = [];
  const workers: WorkerReport[] = [];
  const incomplete: Merged['incomplete'] = [];
  inputs.forEach(({ name, results }, i) => {
    for (const run of results.runs) {
      const key = cellKey(run);
      const before = owner.get(key);
      if (before !== undefined) throw new MergeError(`${cellName(run)} is in both ${before} and ${name}: shards of one sweep hold disjoint cells`);
      owner.set(key, name);
      runs.push(run);
      if (run.status !== 'complete' && run.status !== 'exhausted') incomplete.push({ cell: { strategy: run.strategy, repeat: run.repeat }, status: run.status, rounds: run.rounds.length, from: name });
    }
    for (const w of results.workers ?? []) workers.push({ ...w, shard: results.shard?.index ?? i });
  });
  const ordered = inCellOrder(config, runs);
  const absent = allCells(config).filter((c) => !owner.has(cellKey(c)));
  const status: ExperimentResults['status'] = ordered.some((r) => r.status === 'failed') ? 'failed' : absent.length > 0 || incomplete.length > 0 ? 'aborted' : 'complete';
  const peak = (f: (r: ExperimentResults) => number | undefined) => Math.max(0, ...inputs.map((x) => f(x.results) ?? 0));
  const results: ExperimentResults = {
    version: 1,
    config,
    environment: first.results.environment,
    status,
    startedAt: inputs.map((x) => x.results.startedAt).sort()[0]!,
    // The shards ran side by side: the longest one's wall time.
    elapsedMs: peak((r) => r.elapsedMs),
    runs: ordered,
    summary: summarize(ordered, config.target),
    memory: { peakBytes: peak((r) => r.memory?.peakBytes), peakTensors: peak((r) => r.memory?.peakTensors) },
    ...(absent.length > 0 ? { absent } : {}),
    ...(workers.length > 0 ? { workers } : {}),
    ...(first.results.dataset ? { dataset: first.results.dataset } : {}),
  };
  return { results, absent, incomplete };
}

export function mergeHelp(): string {
  return [
    'Usage: npm run merge -- <results.json>... --out <merged.json>',
    '',
    'Joins the results files of the shards of one sweep (npm run experiment -- --shard I/N) into',
    'the results file of the unsharded run: same configuration required, cells disjoint, summary',
    'computed again. Writes the JSON, the CSV and the SVG chart like npm run experiment. Journals',
    '(<out>.journal.jsonl) are accepted as inputs too.',
    '',
    'Exit codes: 0 every cell of the configuration is there and complete; 1 some cell is missing or',
    'incomplete (named; the merged file is written, with status aborted and absent listing them);',
    '2 bad arguments, different configurations or a cell in two files.',
  ].join('\n');
}

/** `npm run merge` as a function: returns the exit code. */
export async function mergeMain(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  return reportingUserErrors(io, () => merge(argv, io), '(npm run merge -- --help)');
}

async function merge(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = tokenize({ args: [...argv], options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${err instanceof Error ? err.message : String(err)}; usage: npm run merge -- a.json b.json ... --out all.json`);
  }
  if (parsed.values.help) {
    io.stdout.write(`${mergeHelp()}\n`);
    return 0;
  }
  const files = parsed.positionals;
  const out = parsed.values.out;
  if (out === undefined) throw new UsageError('--out is required: the merged results JSON (the CSV and SVG chart go beside it)');
  if (files.length === 0) throw new UsageError('give the results files to merge: npm run merge -- a.json b.json ... --out all.json');
  const outputs = plannedOutputs({ out });
  checkOutputs([outputs.json, outputs.csv, outputs.svg], io.fs);
  const inputs = files.map((name) => ({ name, results: readRunFile(name, '').results }));
  const { results, absent, incomplete } = mergeResults(inputs);
  const { written, failures } = await saveResults(results, outputs, io);
  io.stdout.write(`\n${summaryTable(results)}\n\n`);
  const cells = allCells(results.config).length;
  io.stdout.write(`${results.status}: ${results.runs.length} of ${cells} cells from ${files.length} file${files.length === 1 ? '' : 's'}\n`);
  for (const f of written) io.stdout.write(`wrote ${f}\n`);
  for (const f of failures) io.stderr.write(`error: ${f}\n`);
  if (absent.length > 0) io.stderr.write(`error: missing cell${absent.length === 1 ? '' : 's'}: ${absent.map(cellName).join(', ')} (no input file holds ${absent.length === 1 ? 'it' : 'them'}; the merged file lists them under "absent")\n`);
  for (const x of incomplete) io.stderr.write(`error: ${cellName(x.cell)} in ${x.from} is ${x.status} after ${x.rounds} of ${results.config.rounds + 1} rounds (finish it with npm run experiment -- --resume ${x.from})\n`);
  return absent.length > 0 || incomplete.length > 0 || failures.length > 0 ? 1 : 0;
}
