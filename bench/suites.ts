/**
 * Runs the selected suites on the active backend (Node or the page): the kernel benchmark, predict
 * and MC-dropout throughput, training, one round by phase, and the soak. A suite that throws is
 * recorded as an error and the others still run.
 */
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../datasets/index.ts';
import { benchKernels, type KernelRecord } from './kernels.ts';
import { benchPredict, benchTrain, type PredictRecord, type TrainRecord } from './model-bench.ts';
import { planFor, type SuiteName, type Where } from './plan.ts';
import { benchRound, benchSoak, type RoundBenchRecord, type SoakRecord } from './round-bench.ts';

export interface SuiteError {
  where: Where;
  backend: string;
  suite: SuiteName;
  message: string;
}

export interface SuiteResults {
  kernels: KernelRecord[];
  predict: PredictRecord[];
  train: TrainRecord[];
  round: RoundBenchRecord[];
  soak: SoakRecord[];
  errors: SuiteError[];
  /** Tensors the suites left behind on this backend (should be 0). */
  leakedTensors: number;
}

export function emptyResults(): SuiteResults {
  return { kernels: [], predict: [], train: [], round: [], soak: [], errors: [], leakedTensors: 0 };
}

export async function runSuites(
  where: Where,
  quick: boolean,
  only: ReadonlySet<SuiteName>,
  mnist: () => Promise<Dataset<string>>,
  log: (line: string) => void,
): Promise<SuiteResults> {
  const backend = tf.getBackend();
  const plan = planFor(where, backend, quick);
  const out = emptyResults();
  const before = tf.memory().numTensors;
  const say = (line: string) => log(`${where} ${backend}: ${line}`);
  const run = async (suite: SuiteName, f: () => Promise<void>) => {
    if (!only.has(suite)) return;
    const t0 = performance.now();
    say(`${suite}…`);
    try {
      await f();
      say(`${suite} done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (err) {
      const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      out.errors.push({ where, backend, suite, message });
      say(`${suite} FAILED: ${message}`);
    }
  };
  await run('kernels', async () => void out.kernels.push(...(await benchKernels(plan.kernels))));
  if (plan.predict) await run('predict', async () => void out.predict.push(...(await benchPredict(await mnist(), plan.predict!, say))));
  if (plan.train) await run('train', async () => void out.train.push(...(await benchTrain(await mnist(), plan.train!, say))));
  if (plan.round) await run('round', async () => void out.round.push(...(await benchRound(await mnist(), plan.round!, say))));
  if (plan.soak) await run('soak', async () => void out.soak.push(await benchSoak(await mnist(), plan.soak!, say)));
  out.leakedTensors = tf.memory().numTensors - before;
  return out;
}
