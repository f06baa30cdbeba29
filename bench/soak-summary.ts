/**
 * Pure: the soak's per-round samples and the verdicts drawn from them (no tfjs), so they can be
 * unit-tested.
 */
import type { RoundTimes } from '../src/engine/index.ts';
import type { ReadCounters } from './instrument.ts';
import { growthFrom, isFlatFrom, max, readbackIsOrderN } from './stats.ts';

export interface SoakRound {
  strategy: string;
  round: number;
  labeled: number;
  numTensors: number;
  numBytes: number;
  /** webgl: bytes held in GPU textures (tf.memory().numBytesInGPU). */
  numBytesInGPU: number | null;
  /** Counters over this round (from the previous round event to this one). */
  io: ReadCounters;
  /** webgl: entries of the program cache after the round. */
  programsCached: number | null;
  ms: RoundTimes;
}

export interface SoakSummary {
  rounds: number;
  /** Candidates scored per round (N) and classes (C). */
  n: number;
  c: number;
  /** From round 2 on, within each strategy's run and across runs. */
  tensorsFlat: boolean;
  bytesFlat: boolean;
  tensorGrowth: number;
  byteGrowth: number;
  /** Largest of the per-round totals (rounds >= 1) read back to JS, and the largest single read. */
  maxReadBytesPerRound: number;
  maxSingleReadBytes: number;
  readbackOrderN: boolean;
  /** Reads made inside kernels (wasm: inputs copied through JS by Slice/Concat/GatherV2), the largest per round. */
  maxKernelReadBytesPerRound: number;
  /** webgl: GPU download bytes, the largest per round (rounds >= 1). */
  maxGpuBytesPerRound: number | null;
  /** webgl: programs compiled in rounds after round 2 (every run). */
  programsAfterRound2: number | null;
  programsTotal: number | null;
}

/** Pure: the soak's verdicts from its per-round samples. */
export function summarizeSoak(rounds: SoakRound[], config: { poolSubset: number | null; rounds: number }, c: number): SoakSummary {
  const n = config.poolSubset ?? 0;
  const steady = rounds.filter((r) => r.round >= 2);
  const acq = rounds.filter((r) => r.round >= 1);
  const tensors = steady.map((r) => r.numTensors);
  const bytes = steady.map((r) => r.numBytes);
  const byStrategy = new Map<string, SoakRound[]>();
  for (const r of steady) byStrategy.set(r.strategy, [...(byStrategy.get(r.strategy) ?? []), r]);
  const maxGrowth = (f: (r: SoakRound) => number) =>
    Math.max(0, ...[...byStrategy.values()].map((rs) => growthFrom(rs.map(f), 0)));
  const webgl = rounds.some((r) => r.programsCached !== null);
  return {
    rounds: config.rounds,
    n,
    c,
    tensorsFlat: isFlatFrom(tensors, 0),
    bytesFlat: isFlatFrom(bytes, 0),
    tensorGrowth: maxGrowth((r) => r.numTensors),
    byteGrowth: maxGrowth((r) => r.numBytes),
    maxReadBytesPerRound: acq.length ? max(acq.map((r) => r.io.readBytes)) : 0,
    maxSingleReadBytes: acq.length ? max(acq.map((r) => r.io.maxReadBytes)) : 0,
    readbackOrderN: acq.every((r) => readbackIsOrderN(r.io, n, c) && (r.programsCached === null || readbackIsOrderN({ readBytes: r.io.gpuBytes, maxReadBytes: 0 }, n, c))),
    maxKernelReadBytesPerRound: acq.length ? max(acq.map((r) => r.io.kernelReadBytes)) : 0,
    maxGpuBytesPerRound: webgl && acq.length ? max(acq.map((r) => r.io.gpuBytes)) : null,
    programsAfterRound2: webgl ? rounds.filter((r) => r.round > 2).reduce((a, r) => a + r.io.programsCreated, 0) : null,
    programsTotal: webgl ? rounds.reduce((a, r) => a + r.io.programsCreated, 0) : null,
  };
}
