/**
 * Runs single cells (one strategy x one repeat) of a configuration in this process: the backend
 * and the dataset are set up once, then `run` takes cell after cell. Used in the CLI's process
 * with `--jobs 1` and in each worker process (`sweep-worker.ts`) otherwise; both run the same
 * `runExperiment(config, dataset, { cells: [cell], resume })`, so where a cell runs does not
 * change what it computes. With `--save-models` each cell writes its run's final model into its
 * own `<strategy>-r<repeat>` folder of the one DIR (`modelSaver`), so processes can share it.
 */
import { loadDataset, type Dataset } from '../../datasets/index.ts';
import { exportFiles, type ModelExport } from '../../models/export.ts';
import { nodeSource } from '../../datasets/source-node.ts';
import { nodeBackend } from '../backend/auto-choice.ts';
import { backendInfo, useBackend } from '../backend/index.ts';
import { trackPeakMemory, type PeakTracker } from '../backend/memory.ts';
import type { ExperimentConfig } from '../engine/config.ts';
import type { ExperimentEvent } from '../engine/events.ts';
import { ExperimentError, runExperiment, type FinalModelRun } from '../engine/loop.ts';
import type { ExperimentResults, RoundRecord, RunRecord } from '../engine/results.ts';
import { fsReason, nodeFs, writeModelFolder, type OutputFs } from './outputs.ts';
import type { Cell } from './shard.ts';

export type Environment = ExperimentResults['environment'] & { wasmSimd: boolean | null };

export interface MemoryReport {
  /** Peak resident set size of this process so far (bytes). */
  peakRssBytes: number;
  peakTensorBytes: number;
  peakTensors: number;
}

/** What a running cell tells its host; `round` is awaited before the next round starts. */
export interface CellHooks {
  round(record: RoundRecord): void | Promise<void>;
  /** Phase, epoch, warning and resume events of the cell (plain data), for progress and messages. */
  event(event: Extract<ExperimentEvent, { type: 'phase' | 'epoch' | 'warning' | 'resume' }>): void;
}

/** The final models written (`<folder> (model.json, weights.bin)`) and those that could not be (why). */
export interface ModelsReport {
  written: string[];
  failures: string[];
}

/**
 * --save-models: writes each run's final model into its folder as soon as the run finishes, so a
 * later failure keeps it. A write that fails is kept for the end (exit code 1); the runs go on.
 * Each run writes only its own `<strategy>-r<repeat>` folder, so processes that run different
 * cells can share one DIR.
 */
export function modelSaver(folder: string, io: { fs: OutputFs } = { fs: nodeFs }) {
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

/** Where a cell runner writes its runs' final models (`--save-models`); `fs` defaults to node's. */
export interface ModelsTarget {
  folder: string;
  fs?: OutputFs;
}

export function memoryReport(peak: PeakTracker): MemoryReport {
  const p = peak.read();
  return { peakRssBytes: process.resourceUsage().maxRSS * 1024, peakTensorBytes: p.peakBytes, peakTensors: p.peakTensors };
}

export class CellRunner {
  private readonly peak = trackPeakMemory();
  private readonly saver: ReturnType<typeof modelSaver> | null;

  private constructor(
    readonly config: ExperimentConfig,
    private readonly dataset: Dataset<string>,
    readonly environment: Environment,
    models: ModelsTarget | null,
  ) {
    this.saver = models ? modelSaver(models.folder, { fs: models.fs ?? nodeFs }) : null;
  }

  /**
   * Starts the backend and loads the dataset of `config` (or takes `dataset`, the user's own data
   * read by the CLI); with `models`, each run's final model is written there.
   */
  static async open(config: ExperimentConfig, models: ModelsTarget | null = null, given: Dataset<string> | null = null): Promise<CellRunner> {
    const { backend, choice } = nodeBackend(config.backend);
    await useBackend(backend);
    const info = backendInfo();
    const dataset = given ?? (await loadDataset(config.dataset, { source: nodeSource(), seed: config.seed }));
    return new CellRunner(config, dataset, { backend: info.backend, renderer: info.renderer, userAgent: null, wasmSimd: info.wasmSimd, ...(choice ? { backendChoice: choice } : {}) }, models);
  }

  /** The final models written, and the failures, since the last call (empty without `--save-models`). */
  takeModels(): ModelsReport {
    return { written: this.saver?.written.splice(0) ?? [], failures: this.saver?.failures.splice(0) ?? [] };
  }

  /**
   * Runs `cell` (continuing `prior`, its earlier rounds, if given) and resolves with its run:
   * complete, exhausted, aborted (stopped by `signal`) or failed (with its error). Never rejects
   * for a failure of the cell itself.
   */
  async run(cell: Cell, prior: RunRecord | null, signal: AbortSignal, hooks: CellHooks): Promise<RunRecord> {
    const { config } = this;
    const onEvent = async (e: ExperimentEvent) => {
      if (e.type === 'round') await hooks.round(e.record);
      else if (e.type === 'phase' || e.type === 'epoch' || e.type === 'warning' || e.type === 'resume') hooks.event(e);
    };
    try {
      const res = await runExperiment(config, this.dataset, {
        cells: [cell], signal, onEvent, ...(prior ? { resume: { config, runs: [prior] } } : {}), ...(this.saver ? { onFinalModel: this.saver.onFinalModel } : {}),
        ...(this.environment.backendChoice ? { backendChoice: this.environment.backendChoice } : {}),
      });
      return res.runs[0] ?? { ...cell, status: 'aborted', rounds: prior?.rounds ?? [] };
    } catch (err) {
      if (err instanceof ExperimentError && err.results.runs[0]) return err.results.runs[0];
      // Refused before the cell started (e.g. a resumed run that does not fit this data).
      return { ...cell, status: 'failed', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err), rounds: prior?.rounds ?? [] };
    }
  }

  memory(): MemoryReport {
    return memoryReport(this.peak);
  }
}
