/**
 * The sweep benchmark (Node only: it starts processes): one sweep of 4 cells run as a user runs it,
 * `npm run experiment -- … --jobs 1` and `--jobs 2` in turn (interleaved pairs, so both see the
 * same load), timed from process start to exit; each run's results file gives every worker's
 * peak RSS and tensor memory, its stdout the main process's. The runs' results must be equal.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ExperimentResults } from '../src/engine/index.ts';
import type { SweepPlan } from './plan.ts';
import { median, round } from './stats.ts';

const execute = promisify(execFile);

export interface SweepRun {
  jobs: number;
  /** Position in the interleaved order (0, 1, ...). */
  order: number;
  wallMs: number;
  /** Main process peak RSS (bytes); with --jobs 1 it is also the worker. */
  mainPeakRssBytes: number | null;
  workers: { worker: number; cells: number; peakRssBytes: number; peakTensorBytes: number }[];
  /** 1-minute load average before and after the run. */
  load: [number, number];
}

export interface SweepBenchRecord {
  plan: SweepPlan;
  cores: number;
  cpuModel: string;
  totalMemGB: number;
  node: string;
  date: string;
  runs: SweepRun[];
  /** median(--jobs 1 wall) / median(--jobs 2 wall). */
  ratio: number;
  /** Each pair's ratio, in order. */
  pairRatios: number[];
  /** Whether every run's results (rounds, selections, accuracies, summary) were equal. */
  sameResults: boolean;
}

/** What must match between runs: everything but timings, dates, pids and memory. */
function comparable(r: ExperimentResults): string {
  return JSON.stringify({ config: r.config, status: r.status, runs: r.runs.map((run) => ({ ...run, rounds: run.rounds.map(({ ms: _ms, ...rest }) => rest) })), summary: r.summary });
}

export async function benchSweep(root: string, outDir: string, plan: SweepPlan, log: (line: string) => void): Promise<SweepBenchRecord> {
  const dir = join(outDir, 'sweep');
  mkdirSync(dir, { recursive: true });
  const runs: SweepRun[] = [];
  const seen = new Set<string>();
  let order = 0;
  for (let pair = 0; pair < plan.pairs; pair++) {
    for (const jobs of [1, 2]) {
      const out = join(dir, `jobs${jobs}-${pair}.json`);
      const before = loadavg()[0]!;
      const t0 = performance.now();
      const { stdout } = await execute(process.execPath, ['--import', 'tsx', 'src/cli/experiment.ts', ...plan.args, '--jobs', String(jobs), '--out', out], { cwd: root, maxBuffer: 64 * 2 ** 20 });
      const wallMs = performance.now() - t0;
      const res = JSON.parse(readFileSync(out, 'utf8')) as ExperimentResults;
      if (res.status !== 'complete') throw new Error(`--jobs ${jobs} run ${pair} ended ${res.status}`);
      seen.add(comparable(res));
      const main = /main process \(pid \d+\): peak RSS ([\d.]+) MiB/.exec(stdout);
      const workers = (res.workers ?? []).map((w) => ({ worker: w.worker, cells: w.cells.length, peakRssBytes: w.peakRssBytes, peakTensorBytes: w.peakTensorBytes }));
      runs.push({
        jobs, order: order++, wallMs: round(wallMs, 0),
        mainPeakRssBytes: main ? Math.round(Number(main[1]) * 2 ** 20) : jobs === 1 ? (workers[0]?.peakRssBytes ?? null) : null,
        workers, load: [round(before), round(loadavg()[0]!)],
      });
      log(`sweep --jobs ${jobs} (pair ${pair + 1}/${plan.pairs}): ${(wallMs / 1000).toFixed(1)} s, workers' peak RSS ${workers.map((w) => `${(w.peakRssBytes / 2 ** 20).toFixed(0)} MiB`).join(', ')}`);
    }
  }
  const wall = (j: number) => runs.filter((r) => r.jobs === j).map((r) => r.wallMs);
  const pairRatios = Array.from({ length: plan.pairs }, (_, p) => round(wall(1)[p]! / wall(2)[p]!, 3));
  return {
    plan, cores: cpus().length, cpuModel: cpus()[0]?.model.trim() ?? 'unknown', totalMemGB: Math.round(totalmem() / 2 ** 30), node: process.version, date: new Date().toISOString(),
    runs, ratio: round(median(wall(1)) / median(wall(2)), 3), pairRatios, sameResults: seen.size === 1,
  };
}
