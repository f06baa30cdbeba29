/**
 * Runs single cells (one strategy x one repeat) of a configuration in this process: the backend
 * and the dataset are set up once, then `run` takes cell after cell. Used in the CLI's process
 * with `--jobs 1` and in each worker process (`sweep-worker.ts`) otherwise; both run the same
 * `runExperiment(config, dataset, { cells: [cell], resume })`, so where a cell runs does not
 * change what it computes.
 */
import { loadDataset, type Dataset } from '../../datasets/index.ts';
import { nodeSource } from '../../datasets/source-node.ts';
import { backendInfo, useBackend } from '../backend/index.ts';
import { trackPeakMemory, type PeakTracker } from '../backend/memory.ts';
import type { ExperimentConfig } from '../engine/config.ts';
import type { ExperimentEvent } from '../engine/events.ts';
import { ExperimentError, runExperiment } from '../engine/loop.ts';
import type { ExperimentResults, RoundRecord, RunRecord } from '../engine/results.ts';
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

export function memoryReport(peak: PeakTracker): MemoryReport {
  const p = peak.read();
  return { peakRssBytes: process.resourceUsage().maxRSS * 1024, peakTensorBytes: p.peakBytes, peakTensors: p.peakTensors };
}

export class CellRunner {
  private readonly peak = trackPeakMemory();

  private constructor(
    readonly config: ExperimentConfig,
    private readonly dataset: Dataset<string>,
    readonly environment: Environment,
  ) {}

  /** Starts the backend and loads the dataset of `config`. */
  static async open(config: ExperimentConfig): Promise<CellRunner> {
    await useBackend(config.backend ?? 'wasm');
    const info = backendInfo();
    const dataset = await loadDataset(config.dataset, { source: nodeSource(), seed: config.seed });
    return new CellRunner(config, dataset, { backend: info.backend, renderer: info.renderer, userAgent: null, wasmSimd: info.wasmSimd });
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
      const res = await runExperiment(config, this.dataset, { cells: [cell], signal, onEvent, ...(prior ? { resume: { config, runs: [prior] } } : {}) });
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
