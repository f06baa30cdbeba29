/** Events the loop emits: plain data only (numbers, strings, typed arrays), never tensors. */
import type { ExperimentConfig } from './config.ts';
import type { ExperimentResults, RoundRecord, RunRecord } from './results.ts';

export type Phase = 'predict' | 'score' | 'select' | 'train' | 'evaluate';

interface Where {
  strategy: string;
  repeat: number;
  round: number;
}

export interface Progress {
  /** Rounds completed across all runs. */
  done: number;
  total: number;
  elapsedMs: number;
}

export type ExperimentEvent =
  | {
      type: 'start';
      config: ExperimentConfig;
      dataset: { name: string; numClasses: number; classNames: string[]; poolSize: number; testSize: number };
      progress: Progress;
    }
  | ({ type: 'phase'; phase: Phase } & Where)
  | ({ type: 'epoch'; epoch: number; epochs: number; loss: number } & Where)
  | ({
      type: 'round';
      record: RoundRecord;
      /** Informativeness of every candidate scored this round (null in round 0 and for set strategies). */
      scores: Float32Array | null;
      /** Test confusion counts of this round's model, row-major [true][predicted], C x C. */
      confusion: number[];
      /** With `RunOptions.grid`: the model's class and confidence at each grid point (decision-boundary maps). */
      grid: { predicted: Uint8Array; confidence: Float32Array } | null;
      progress: Progress;
    } & Omit<Where, 'round'>)
  | ({ type: 'warning'; message: string } & Where)
  | { type: 'run'; run: RunRecord }
  | { type: 'end'; results: ExperimentResults };
