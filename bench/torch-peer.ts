/**
 * The PyTorch peer (`bench/torch_peer.py`): the same Gal CNN trained and predicting in PyTorch on
 * this machine, in the same run, at one thread and all threads, where a Python with torch is
 * installed (Debian's `python3-torch`). Its figures set against wasm's: one training epoch of 512
 * images at batch 32, and predicting 10,000 images. The ratios are pure functions, tested in Node.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PredictRecord, TrainRecord } from './model-bench.ts';
import { median } from './stats.ts';

const run = promisify(execFile);

/** Images per training epoch and per prediction, as in torch_peer.py. */
export const EPOCH_IMAGES = 512;
export const PREDICT_IMAGES = 10_000;
export const EPOCH_BATCH = 32;

export interface TorchRun {
  threads: number;
  /** Seconds per epoch of 512 images at batch 32, each measured epoch. */
  trainEpochS: number[];
  /** CPU seconds of the process per epoch (all threads; absent from older records). */
  trainEpochCpuS?: number[];
  /** Seconds to predict 10,000 images, each measured pass. */
  predictS: number[];
}

export interface TorchPeerRecord {
  torch: string;
  python: string;
  /** The interpreter that ran it. */
  executable: string;
  cpus: number;
  runs: TorchRun[];
}

/** Pythons tried in order: the one on PATH (may be a pyenv without torch), then Debian's. */
const PYTHONS = ['python3', '/usr/bin/python3'];

/** The first Python here that imports torch, or null (the peer is then skipped). */
export async function findTorchPython(): Promise<string | null> {
  for (const py of PYTHONS) {
    try {
      await run(py, ['-c', 'import torch'], { timeout: 60_000 });
      return py;
    } catch {
      // not this one
    }
  }
  return null;
}

/** Runs bench/torch_peer.py with `python`; throws with its stderr if it fails. */
export async function runTorchPeer(root: string, python: string, quick: boolean): Promise<TorchPeerRecord> {
  const { stdout } = await run(python, [join(root, 'bench/torch_peer.py'), ...(quick ? ['--quick'] : [])], { timeout: 30 * 60_000, maxBuffer: 1 << 20 });
  const parsed = JSON.parse(stdout.trim().split('\n').at(-1)!) as Omit<TorchPeerRecord, 'executable'>;
  return { ...parsed, executable: python };
}

/** One comparison: wasm's figure, PyTorch's at `threads`, and wasm / PyTorch. */
export interface TorchRatio {
  what: 'train epoch' | 'predict';
  wasmS: number;
  where: string;
  threads: number;
  torchS: number;
  /** wasmS / torchS: above 1, wasm is slower. */
  ratio: number;
  /**
   * Training at one thread, where both sides measured CPU time: wasm's CPU seconds an epoch (Node),
   * PyTorch's, and their ratio; the load-robust view on a shared machine. Null otherwise.
   */
  cpu: { wasmS: number; torchS: number; ratio: number } | null;
}

/**
 * wasm's training epoch (16 steps of batch 32: 16 x the epoch's ms per step) and its 10,000-image
 * prediction (from its images/s) against PyTorch's medians at each thread count.
 */
export function torchRatios(
  peer: TorchPeerRecord,
  train: readonly (TrainRecord & { where: string })[],
  predict: readonly (PredictRecord & { where: string })[],
): TorchRatio[] {
  const out: TorchRatio[] = [];
  for (const t of train.filter((r) => r.backend === 'wasm' && r.batchSize === EPOCH_BATCH)) {
    const steps = EPOCH_IMAGES / EPOCH_BATCH;
    const wasmS = (steps * t.epochStepMs) / 1000;
    for (const r of peer.runs) {
      const wasmCpu = t.epochStepCpuMs != null ? (steps * t.epochStepCpuMs) / 1000 : null;
      const torchCpu = r.threads === 1 && r.trainEpochCpuS?.length ? median(r.trainEpochCpuS) : null;
      const cpu = wasmCpu !== null && torchCpu !== null ? { wasmS: wasmCpu, torchS: torchCpu, ratio: wasmCpu / torchCpu } : null;
      out.push({ what: 'train epoch', wasmS, where: t.where, threads: r.threads, torchS: median(r.trainEpochS), ratio: wasmS / median(r.trainEpochS), cpu });
    }
  }
  for (const p of predict.filter((r) => r.backend === 'wasm' && r.measure === 'predict')) {
    const wasmS = PREDICT_IMAGES / p.imagesPerSec;
    for (const r of peer.runs) out.push({ what: 'predict', wasmS, where: p.where, threads: r.threads, torchS: median(r.predictS), ratio: wasmS / median(r.predictS), cpu: null });
  }
  return out;
}
