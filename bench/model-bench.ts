/**
 * Model benchmarks on the active backend, shared by Node and the page: predict throughput of the
 * Gal et al. CNN over MNIST in fixed chunks of 256, MC dropout (T passes) over a subset, and
 * training throughput with the ratio of one training step to one forward pass on the same batch.
 *
 * Inputs are built the way the engine builds them (`batchTensor` from the uint8 pool, uploaded
 * per chunk), so every time includes that CPU work and the upload. The weights are a fresh seeded
 * initialisation: throughput does not depend on their values.
 */
import * as tf from '@tensorflow/tfjs';
import { batchTensor, labelsOneHot, type Dataset } from '../datasets/index.ts';
import { createModel, disposeModel } from '../models/index.ts';
import { predictMcDropout, predictProbs } from '../models/predict.ts';
import { fitSeeded, type TrainingSet } from '../models/train.ts';
import { Rng } from '../src/rng.ts';
import { median, perSecond, round } from './stats.ts';

/** The MNIST training pool size the per-60,000 figures refer to. */
export const POOL_SIZE = 60_000;

export interface PredictRecord {
  backend: string;
  measure: 'predict' | 'mc-dropout';
  model: 'cnn';
  /** Images predicted. */
  n: number;
  chunkSize: number;
  /** Stochastic passes T (1 for a plain prediction). */
  samples: number;
  /** Median wall time over `runs` (ms), the device synchronised at the end (one scalar read). */
  ms: number;
  /** Images per second (each image counted once, whatever T). */
  imagesPerSec: number;
  /** Time for the whole 60,000-image pool: measured when n = 60,000, else n scaled linearly. */
  ms60k: number;
  extrapolated: boolean;
  runs: number;
}

export interface KernelCost {
  name: string;
  /** Input shapes, as tf.profile reports them. */
  shapes: string;
  /** Kernel time (ms; the smallest over the profiled runs). */
  ms: number;
}

export interface TrainRecord {
  backend: string;
  model: 'cnn';
  batchSize: number;
  /** Throughput: one fitSeeded epoch of this many full batches, after a warm-up epoch. */
  steps: number;
  /** Wall time per step over that epoch (ms): batch built, forward with dropout, backward, Adam; one readback per epoch. */
  epochStepMs: number;
  /**
   * Node only (null in the page): the process's CPU time per step over that epoch (ms, user +
   * system, `process.cpuUsage`). wasm in Node runs one thread, so on a shared machine this is the
   * load-robust view of the same work (the PyTorch peer at one thread reports its own).
   */
  epochStepCpuMs?: number | null;
  /** Training throughput, samples per second (batchSize / epochStepMs). */
  samplesPerSec: number;
  /** Step vs forward: this many interleaved pairs (one 1-batch fitSeeded epoch, one forward pass). */
  pairs: number;
  /** Median wall time of one training step in those pairs (ms). */
  stepMs: number;
  /** Median wall time of one forward pass (model.predict, dropout off) on the same batch, built the same way (ms). */
  forwardMs: number;
  /** stepMs / forwardMs (medians of interleaved runs, so load on the shared machine hits both alike). */
  ratio: number;
  /** Forward throughput on this batch size, images per second. */
  forwardImagesPerSec: number;
  /** wasm: tf.profile of one step and one forward pass (kernel time, the smallest over the profiled runs per kernel). */
  profile: { runs: number; stepKernelMs: number; forwardKernelMs: number; kernelRatio: number; step: KernelCost[]; forward: KernelCost[] } | null;
}

export interface PredictOptions {
  /** Images for the plain prediction. */
  n: number;
  /** Images for MC dropout (0: skip it), and its T. */
  mcN: number;
  mcSamples: number;
  chunkSize?: number;
  /** Timed repetitions (median); warm-up is one chunk, untimed. */
  runs?: number;
}

export interface TrainOptions {
  batchSizes: number[];
  /** Batches in the timed epoch (throughput). */
  steps: number;
  /** Interleaved step / forward pairs (ratio). */
  pairs: number;
  /** Profile steps and forward passes with tf.profile (kernel times exist on wasm and cpu only). */
  profile?: boolean;
  profileRuns?: number;
}

type Log = (line: string) => void;

const now = () => performance.now();

/** Synchronises with the device by reading one scalar of `t` (never the whole tensor). */
async function settle(t: tf.Tensor): Promise<void> {
  const s = tf.tidy(() => tf.sum(t));
  await s.data();
  s.dispose();
}

function cnn(ds: Dataset<string>, seed: number): tf.Sequential {
  return createModel('cnn', { inputShape: ds.shape, numClasses: ds.numClasses, rng: new Rng(seed) });
}

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

/** Predict and MC-dropout throughput of the CNN on the active backend. */
export async function benchPredict(ds: Dataset<string>, opts: PredictOptions, log: Log = () => {}): Promise<PredictRecord[]> {
  const backend = tf.getBackend();
  const chunkSize = opts.chunkSize ?? 256;
  const runs = opts.runs ?? 1;
  const n = Math.min(opts.n, ds.train.n);
  const mcN = Math.min(opts.mcN, ds.train.n);
  const batch = (idx: Int32Array) => batchTensor(ds.train, idx, { shape: ds.shape });
  const model = cnn(ds, 11);
  const records: PredictRecord[] = [];
  try {
    // Warm-up (shader compilation on webgl, XNNPACK operator set-up on wasm), untimed; cpu needs none.
    const warmUp = backend !== 'cpu';
    if (warmUp) {
      const w = predictProbs(model, batch, range(chunkSize), { chunkSize });
      await settle(w);
      w.dispose();
    }
    const times: number[] = [];
    for (let r = 0; r < runs; r++) {
      const t0 = now();
      const p = predictProbs(model, batch, range(n), { chunkSize });
      await settle(p);
      times.push(now() - t0);
      p.dispose();
    }
    const ms = median(times);
    records.push({
      backend, measure: 'predict', model: 'cnn', n, chunkSize, samples: 1, ms: round(ms),
      imagesPerSec: round(perSecond(n, ms), 1), ms60k: round((ms * POOL_SIZE) / n, 0), extrapolated: n !== POOL_SIZE, runs,
    });
    log(`predict ${n}: ${(ms / 1000).toFixed(1)} s, ${perSecond(n, ms).toFixed(0)} img/s`);

    if (mcN === 0) return records;
    const mcTimes: number[] = [];
    const rng = new Rng(12);
    if (warmUp) {
      const wm = predictMcDropout(model, batch, range(chunkSize), { chunkSize, samples: opts.mcSamples, rng: rng.fork('warm-up') });
      await settle(wm);
      wm.dispose();
    }
    for (let r = 0; r < runs; r++) {
      const t0 = now();
      const mc = predictMcDropout(model, batch, range(mcN), { chunkSize, samples: opts.mcSamples, rng: rng.fork(`run:${r}`) });
      await settle(mc);
      mcTimes.push(now() - t0);
      mc.dispose();
    }
    const mcMs = median(mcTimes);
    records.push({
      backend, measure: 'mc-dropout', model: 'cnn', n: mcN, chunkSize, samples: opts.mcSamples, ms: round(mcMs),
      imagesPerSec: round(perSecond(mcN, mcMs), 1), ms60k: round((mcMs * POOL_SIZE) / mcN, 0), extrapolated: mcN !== POOL_SIZE, runs,
    });
    log(`mc-dropout T=${opts.mcSamples} over ${mcN}: ${(mcMs / 1000).toFixed(1)} s, ${perSecond(mcN, mcMs).toFixed(0)} img/s`);
  } finally {
    disposeModel(model);
  }
  return records;
}

/** Kernels of a tf.profile, keyed by name and input shapes (op-level `__op` scopes dropped, so nothing counts twice). */
function kernelTimes(info: Awaited<ReturnType<typeof tf.profile>>): Map<string, KernelCost> {
  const out = new Map<string, KernelCost>();
  for (const k of info.kernels) {
    if (k.name.endsWith('__op')) continue;
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const shapes = JSON.stringify(k.inputShapes);
    const key = `${k.name} ${shapes}`;
    const e = out.get(key);
    if (e) e.ms += ms;
    else out.set(key, { name: k.name, shapes, ms });
  }
  return out;
}

/** Per kernel, the smallest time over several profiles (the machine is shared: take the least disturbed). */
function minOver(profiles: Map<string, KernelCost>[]): KernelCost[] {
  const keys = new Set(profiles.flatMap((p) => [...p.keys()]));
  const rows: KernelCost[] = [];
  for (const key of keys) {
    const seen = profiles.map((p) => p.get(key)).filter((x): x is KernelCost => x !== undefined);
    rows.push({ ...seen[0]!, ms: round(Math.min(...seen.map((s) => s.ms))) });
  }
  return rows.sort((a, b) => b.ms - a.ms);
}

/** Training-step and forward-pass times of the CNN on the active backend. */
export async function benchTrain(ds: Dataset<string>, opts: TrainOptions, log: Log = () => {}): Promise<TrainRecord[]> {
  const backend = tf.getBackend();
  const warmUp = backend !== 'cpu'; // nothing to compile or set up on cpu, and a cpu step takes ~40 s
  const records: TrainRecord[] = [];
  const trainX = (idx: Int32Array) => batchTensor(ds.train, idx, { shape: ds.shape });
  for (const B of opts.batchSizes) {
    const { steps, pairs } = opts;
    const model = cnn(ds, 21);
    const data: TrainingSet = {
      indices: range(B * steps),
      batch: (idx) => ({ x: trainX(idx), y: labelsOneHot(ds.train, idx, ds.numClasses) }),
    };
    const first: TrainingSet = { indices: range(B), batch: data.batch };
    let seed = 1;
    const fit = (set: TrainingSet) => fitSeeded(model, set, { rng: new Rng(seed++), epochs: 1, batchSize: B });
    const idx = range(B);
    const forward = async () => {
      const x = trainX(idx);
      const p = model.predict(x, { batchSize: B }) as tf.Tensor;
      x.dispose();
      await settle(p);
      p.dispose();
    };
    const timed = async (f: () => Promise<unknown>) => {
      const t0 = now();
      await f();
      return now() - t0;
    };
    try {
      if (warmUp) {
        await fit(first); // compile / set up every kernel of a step and of a forward pass
        await forward();
      }
      const cpu0 = typeof process !== 'undefined' && typeof process.cpuUsage === 'function' ? process.cpuUsage() : null;
      const epochStepMs = (await timed(() => fit(data))) / steps;
      const cpu = cpu0 ? process.cpuUsage(cpu0) : null;
      const epochStepCpuMs = cpu ? (cpu.user + cpu.system) / 1000 / steps : null;
      const stepTimes: number[] = [];
      const forwardTimes: number[] = [];
      for (let i = 0; i < pairs; i++) {
        stepTimes.push(await timed(() => fit(first)));
        forwardTimes.push(await timed(forward));
      }
      const stepMs = median(stepTimes);
      const forwardMs = median(forwardTimes);

      let profile: TrainRecord['profile'] = null;
      if (opts.profile) {
        const runs = opts.profileRuns ?? 3;
        const stepProfiles: Map<string, KernelCost>[] = [];
        const fwdProfiles: Map<string, KernelCost>[] = [];
        for (let r = 0; r < runs; r++) {
          stepProfiles.push(kernelTimes(await tf.profile(async () => void (await fit(first)))));
          fwdProfiles.push(kernelTimes(await tf.profile(forward)));
        }
        const step = minOver(stepProfiles);
        const fwd = minOver(fwdProfiles);
        const total = (rows: KernelCost[]) => round(rows.reduce((a, r) => a + r.ms, 0));
        profile = {
          runs, stepKernelMs: total(step), forwardKernelMs: total(fwd), kernelRatio: round(total(step) / total(fwd)),
          step: step.slice(0, 15), forward: fwd.slice(0, 8),
        };
      }
      records.push({
        backend, model: 'cnn', batchSize: B, steps, epochStepMs: round(epochStepMs), epochStepCpuMs: epochStepCpuMs === null ? null : round(epochStepCpuMs), samplesPerSec: round(perSecond(B, epochStepMs), 1),
        pairs, stepMs: round(stepMs), forwardMs: round(forwardMs), ratio: round(stepMs / forwardMs),
        forwardImagesPerSec: round(perSecond(B, forwardMs), 1), profile,
      });
      log(`train B=${B}: ${perSecond(B, epochStepMs).toFixed(1)} samples/s; step ${stepMs.toFixed(0)} ms vs forward ${forwardMs.toFixed(0)} ms = ${(stepMs / forwardMs).toFixed(2)}x` +
        (profile ? ` (kernel time ${profile.kernelRatio.toFixed(2)}x)` : ''));
    } finally {
      disposeModel(model);
    }
  }
  return records;
}

/**
 * One training epoch of the CNN as the PyTorch peer runs it (`EPOCH_IMAGES / batchSize` steps of
 * `fitSeeded`), timed in wall and process CPU seconds, after one untimed warm-up epoch. Returns the
 * timed epoch and `dispose`. Node only (process.cpuUsage).
 */
export async function epochRunner(ds: Dataset<string>, images: number, batchSize: number): Promise<{ epoch: () => Promise<{ wallS: number; cpuS: number }>; dispose: () => void }> {
  const model = cnn(ds, 21);
  const trainX = (idx: Int32Array) => batchTensor(ds.train, idx, { shape: ds.shape });
  const data: TrainingSet = { indices: range(images), batch: (idx) => ({ x: trainX(idx), y: labelsOneHot(ds.train, idx, ds.numClasses) }) };
  let seed = 1;
  const fit = () => fitSeeded(model, data, { rng: new Rng(seed++), epochs: 1, batchSize });
  await fit(); // warm-up, as the peer's
  return {
    epoch: async () => {
      const c0 = process.cpuUsage();
      const t0 = now();
      await fit();
      const wallS = (now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      return { wallS, cpuS: (c.user + c.system) / 1e6 };
    },
    dispose: () => disposeModel(model),
  };
}
