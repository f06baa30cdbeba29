/**
 * The PyTorch peer (`bench/torch_peer.py`): the same Gal CNN trained and predicting in PyTorch on
 * this machine, in the same run, at one thread and all threads, where a Python with torch is
 * installed (Debian's `python3-torch`). Its figures set against wasm's: one training epoch of 512
 * images at batch 32, and predicting 10,000 images. The ratios are pure functions, tested in Node.
 * `interleavedEpochs` takes training epochs in turn (wasm in this process, PyTorch in a
 * `--serve` child at one thread), so both meet the same load: on a shared machine that, in CPU
 * time, is the comparison the 1.5x target is judged on.
 */
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { PredictRecord, TrainRecord } from './model-bench.ts';
import { median } from './stats.ts';

const run = promisify(execFile);

/** Images per training epoch and per prediction, as in torch_peer.py. */
export const EPOCH_IMAGES = 512;
export const PREDICT_IMAGES = 10_000;
export const EPOCH_BATCH = 32;
/** Epochs each side in the interleaved comparison (full run; 2 in --quick). */
export const INTERLEAVED_EPOCHS = 7;

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
  /**
   * Training epochs taken in turn, wasm (Node, one thread) then PyTorch (one thread, its `--serve`
   * process), each after its own warm-up epoch: the same load hits both. Absent from older records.
   */
  interleaved?: InterleavedEpochs | null;
}

/** Wall and CPU seconds of one training epoch (CPU: the whole process, user + system). */
export interface EpochTime {
  wallS: number;
  cpuS: number;
}

export interface InterleavedEpochs {
  wasm: EpochTime[];
  torch: EpochTime[];
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

/**
 * Runs `epochs` training epochs on each side in turn: `wasmEpoch()` (one epoch in this process),
 * then one epoch in `python bench/torch_peer.py --serve` (at one thread, warmed up by then).
 * `wasmEpoch` must be warmed up by the caller.
 */
export async function interleavedEpochs(root: string, python: string, epochs: number, wasmEpoch: () => Promise<EpochTime>): Promise<InterleavedEpochs> {
  const child = spawn(python, [join(root, 'bench/torch_peer.py'), '--serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<never>((_, reject) => child.on('close', (code) => reject(new Error(`torch_peer.py --serve exited (${code}): ${stderr.trim().slice(-500)}`))));
  exited.catch(() => {});
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const r = await Promise.race([lines.next(), exited]);
    if (r.done) throw new Error(`torch_peer.py --serve closed its output: ${stderr.trim().slice(-500)}`);
    return JSON.parse(r.value) as Record<string, unknown>;
  };
  try {
    const ready = await next();
    if (ready.ready !== true) throw new Error(`torch_peer.py --serve: expected {"ready": true}, got ${JSON.stringify(ready)}`);
    const out: InterleavedEpochs = { wasm: [], torch: [] };
    for (let e = 0; e < epochs; e++) {
      out.wasm.push(await wasmEpoch());
      child.stdin.write('epoch\n');
      const t = await next();
      if (typeof t.wallS !== 'number' || typeof t.cpuS !== 'number') throw new Error(`torch_peer.py --serve: bad epoch line ${JSON.stringify(t)}`);
      out.torch.push({ wallS: t.wallS, cpuS: t.cpuS });
    }
    return out;
  } finally {
    child.stdin.end();
    child.kill();
  }
}

/** Medians of interleaved epochs and their ratios (wasm / PyTorch), wall and CPU. */
export function interleavedRatio(i: InterleavedEpochs): { wasm: EpochTime; torch: EpochTime; wall: number; cpu: number } {
  const med = (xs: EpochTime[]): EpochTime => ({ wallS: median(xs.map((x) => x.wallS)), cpuS: median(xs.map((x) => x.cpuS)) });
  const wasm = med(i.wasm);
  const torch = med(i.torch);
  return { wasm, torch, wall: wasm.wallS / torch.wallS, cpu: wasm.cpuS / torch.cpuS };
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
