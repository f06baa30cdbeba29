/**
 * Loop benchmarks on the active backend, shared by Node and the page:
 * - `benchRound`: one full active-learning round with a small realistic config (MNIST, the Gal
 *   CNN, BALD with MC dropout), its time by phase as the engine records it (`record.ms`);
 * - `benchSoak`: a 30-round run on a small setup (MNIST, mlp, a pool subset) watching, after every
 *   round, the live tensors and bytes, the bytes read back to JS (and downloaded from the GPU on
 *   webgl), and the WebGL programs compiled.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../datasets/index.ts';
import { resolveConfig, runExperiment, type ExperimentConfig, type RoundTimes } from '../src/engine/index.ts';
import { diffCounters, instrumentBackend } from './instrument.ts';
import { summarizeSoak, type SoakRound, type SoakSummary } from './soak-summary.ts';
import { round } from './stats.ts';

export type { SoakRound, SoakSummary } from './soak-summary.ts';

type Log = (line: string) => void;

/** The parts of the config a benchmark sets (everything else is the engine's default). */
export type BenchConfig = Pick<ExperimentConfig,
  'dataset' | 'model' | 'strategies' | 'initial' | 'query' | 'rounds' | 'epochs' | 'batchSize' | 'poolSubset' | 'mcSamples' | 'testSubset' | 'seed'>;

export interface RoundBenchRecord {
  backend: string;
  config: BenchConfig;
  strategy: string;
  round: number;
  labeled: number;
  /** The engine's own timing of the round's phases (ms). */
  ms: RoundTimes;
  totalMs: number;
  /** (score + select) / predict for this round. */
  scoreSelectOverPredict: number | null;
}

export interface SoakRecord {
  backend: string;
  config: BenchConfig;
  rounds: SoakRound[];
  summary: SoakSummary;
  elapsedMs: number;
}

/** One round's time by phase (rounds 1.. of a short run; round 0 has no acquisition). */
export async function benchRound(ds: Dataset<string>, config: BenchConfig, log: Log = () => {}): Promise<RoundBenchRecord[]> {
  const backend = tf.getBackend();
  const records: RoundBenchRecord[] = [];
  await runExperiment(resolveConfig({ ...config, backend: 'auto' }), ds, {
    onEvent: (e) => {
      if (e.type !== 'round') return;
      const ms = e.record.ms;
      const totalMs = ms.train + ms.predict + ms.score + ms.select + ms.evaluate;
      records.push({
        backend, config, strategy: e.strategy, round: e.record.round, labeled: e.record.labeled,
        ms: { train: round(ms.train), predict: round(ms.predict), score: round(ms.score), select: round(ms.select), evaluate: round(ms.evaluate) },
        totalMs: round(totalMs),
        scoreSelectOverPredict: e.record.round > 0 && ms.predict > 0 ? round((ms.score + ms.select) / ms.predict, 4) : null,
      });
      log(`round ${e.record.round}: train ${ms.train.toFixed(0)}, predict ${ms.predict.toFixed(0)}, score ${ms.score.toFixed(1)}, select ${ms.select.toFixed(1)}, evaluate ${ms.evaluate.toFixed(0)} ms`);
    },
  });
  return records;
}

/** A long run, instrumented: memory, readback and program compilation per round. */
export async function benchSoak(ds: Dataset<string>, config: BenchConfig, log: Log = () => {}): Promise<SoakRecord> {
  const backend = tf.getBackend();
  const inst = instrumentBackend();
  const rounds: SoakRound[] = [];
  const t0 = performance.now();
  try {
    let last = inst.snapshot();
    await runExperiment(resolveConfig({ ...config, backend: 'auto' }), ds, {
      onEvent: (e) => {
        if (e.type === 'start') {
          last = inst.snapshot();
          inst.resetMax();
          return;
        }
        if (e.type !== 'round') return;
        const m = tf.memory() as tf.MemoryInfo & { numBytesInGPU?: number };
        const now = inst.snapshot();
        const io = diffCounters(last, now);
        last = now;
        inst.resetMax();
        const cached = inst.programsCached();
        rounds.push({
          strategy: e.strategy, round: e.record.round, labeled: e.record.labeled,
          numTensors: m.numTensors, numBytes: m.numBytes, numBytesInGPU: typeof m.numBytesInGPU === 'number' ? m.numBytesInGPU : null,
          io, programsCached: cached, ms: e.record.ms,
        });
        if (e.record.round % 10 === 0 || e.record.round === config.rounds) {
          log(`${e.strategy} round ${e.record.round}: ${m.numTensors} tensors, ${m.numBytes} B, read ${io.readBytes} B in ${io.reads} reads, programs +${io.programsCreated}`);
        }
      },
    });
  } finally {
    inst.restore();
  }
  return { backend, config, rounds, summary: summarizeSoak(rounds, config, ds.numClasses), elapsedMs: round(performance.now() - t0, 0) };
}
