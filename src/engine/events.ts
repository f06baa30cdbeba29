/** Events the loop emits: plain data only (numbers, strings, typed arrays), never tensors. */
import type { ExperimentConfig } from './config.ts';
import type { ExperimentResults, RoundRecord, RunRecord } from './results.ts';

export type Phase = 'predict' | 'score' | 'select' | 'train' | 'evaluate';

export interface Where {
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
      /** Set when the run continues an earlier one (`RunOptions.resume`): the rounds it keeps. */
      resumed?: { keptRounds: number; keptRuns: number };
    }
  | ({ type: 'phase'; phase: Phase } & Where)
  /** After each training epoch: its mean training loss and training accuracy (models/train.ts `EpochLog`). */
  | ({ type: 'epoch'; epoch: number; epochs: number; loss: number; acc: number } & Where)
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
  /**
   * A run continues from its last kept round (`RunOptions.resume`): `round` is that round, whose
   * model is being rebuilt by retraining on its labeled set before round + 1 starts.
   */
  | ({ type: 'resume'; message: string; labeled: number } & Where)
  | { type: 'run'; run: RunRecord }
  | { type: 'end'; results: ExperimentResults };
