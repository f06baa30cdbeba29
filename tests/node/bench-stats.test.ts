/** The benchmark's pure helpers: statistics, the soak verdicts, the target verdicts and the report splice. */
import { describe, expect, it } from 'vitest';
import { BEGIN_MARKER, END_MARKER, evaluateTargets, renderReport, spliceReport, type BenchData, type Machine } from '../../bench/report.ts';
import { summarizeSoak, type SoakRound } from '../../bench/soak-summary.ts';
import { interleavedRatio, torchRatios } from '../../bench/torch-peer.ts';
import { fmt, fmtBytes, growthFrom, isFlatFrom, max, mean, median, min, perSecond, readbackIsOrderN, round, sumFrom, wholeNumberFlag } from '../../bench/stats.ts';

describe('bench flags', () => {
  it('a whole-number flag takes whole numbers from its least; anything else is refused by name', () => {
    expect(wholeNumberFlag('--repeats', '3')).toBe(3);
    expect(wholeNumberFlag('--warm', '0', 0)).toBe(0);
    for (const bad of ['0', '-2', '1.5', 'x', '', ' ']) {
      expect(() => wholeNumberFlag('--repeats', bad)).toThrow(`--repeats takes a whole number of at least 1, got '${bad}'`);
    }
  });
});

describe('bench statistics', () => {
  it('median, min, max, mean', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5])).toBe(5);
    expect(min([3, -1, 2])).toBe(-1);
    expect(max([3, -1, 2])).toBe(3);
    expect(mean([1, 2, 3, 6])).toBe(3);
    for (const f of [median, min, max, mean]) expect(() => f([])).toThrow(RangeError);
  });

  it('median does not reorder its input', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });

  it('round, perSecond', () => {
    expect(round(1.23456)).toBe(1.23);
    expect(round(1.23456, 3)).toBe(1.235);
    expect(round(Infinity)).toBe(Infinity);
    expect(perSecond(256, 500)).toBe(512);
    expect(() => perSecond(1, 0)).toThrow(RangeError);
  });

  it('flatness and growth from a position', () => {
    expect(isFlatFrom([5, 9, 7, 7, 7], 2)).toBe(true);
    expect(isFlatFrom([5, 9, 7, 7, 8], 2)).toBe(false);
    expect(isFlatFrom([1], 3)).toBe(true);
    expect(growthFrom([5, 9, 7, 7, 8], 2)).toBe(1);
    expect(growthFrom([5], 0)).toBe(0);
    expect(sumFrom([1, 2, 3], 1)).toBe(5);
  });

  it('readback O(N): N scores plus constants pass, an N x C matrix fails', () => {
    const n = 2000, c = 10;
    expect(readbackIsOrderN({ readBytes: 4 * n + 500, maxReadBytes: 4 * n }, n, c)).toBe(true);
    expect(readbackIsOrderN({ readBytes: 4 * n * c, maxReadBytes: 4 * n * c }, n, c)).toBe(false);
    // Several N-sized reads in one round exceed the budget even if none is N x C.
    expect(readbackIsOrderN({ readBytes: 3 * 4 * n, maxReadBytes: 4 * n }, n, c)).toBe(false);
  });

  it('formats numbers and bytes', () => {
    expect(fmt(1234.567, 1)).toBe('1,234.6');
    expect(fmt(null)).toBe('–');
    expect(fmt(NaN)).toBe('–');
    expect(fmtBytes(512)).toBe('512 B');
    expect(fmtBytes(8192)).toBe('8.0 KB');
    expect(fmtBytes(3 * 1024 * 1024)).toBe('3.0 MB');
  });
});

const io = (o: Partial<SoakRound['io']> = {}): SoakRound['io'] => ({
  reads: 3, readBytes: 8000, maxReadBytes: 8000, kernelReads: 0, kernelReadBytes: 0, gpuDownloads: 3, gpuBytes: 8000, programsCreated: 0, ...o,
});
const sample = (round: number, o: Partial<SoakRound> = {}): SoakRound => ({
  strategy: 'entropy', round, labeled: 20 + 10 * round, numTensors: 14, numBytes: 1000, numBytesInGPU: null, io: io(), programsCached: null,
  ms: { train: 1, predict: 1, score: 1, select: 1, evaluate: 1 }, ...o,
});

describe('summarizeSoak', () => {
  it('flat memory from round 2, O(N) readback', () => {
    const rounds = [sample(0, { numTensors: 20 }), sample(1, { numTensors: 16 }), sample(2), sample(3), sample(4)];
    const s = summarizeSoak(rounds, { poolSubset: 2000, rounds: 4 }, 10);
    expect(s.tensorsFlat).toBe(true);
    expect(s.bytesFlat).toBe(true);
    expect(s.readbackOrderN).toBe(true);
    expect(s.maxReadBytesPerRound).toBe(8000);
    expect(s.programsAfterRound2).toBeNull();
  });

  it('growth after round 2 and an N x C read are caught', () => {
    const rounds = [sample(0), sample(1), sample(2), sample(3, { numTensors: 15, numBytes: 1400, io: io({ readBytes: 80_000, maxReadBytes: 80_000 }) })];
    const s = summarizeSoak(rounds, { poolSubset: 2000, rounds: 3 }, 10);
    expect(s.tensorsFlat).toBe(false);
    expect(s.tensorGrowth).toBe(1);
    expect(s.byteGrowth).toBe(400);
    expect(s.readbackOrderN).toBe(false);
  });

  it('webgl: programs compiled after round 2 are counted, in every strategy run', () => {
    const gl = (round: number, strategy: string, programs: number) =>
      sample(round, { strategy, programsCached: 100, io: io({ programsCreated: programs }) });
    const rounds = [gl(0, 'entropy', 40), gl(1, 'entropy', 5), gl(2, 'entropy', 1), gl(3, 'entropy', 0), gl(0, 'bald', 3), gl(1, 'bald', 2), gl(3, 'bald', 2)];
    const s = summarizeSoak(rounds, { poolSubset: 2000, rounds: 3 }, 10);
    expect(s.programsAfterRound2).toBe(2);
    expect(s.programsTotal).toBe(53);
  });

  it('webgl: GPU downloads over the budget fail the readback verdict', () => {
    const rounds = [sample(1, { programsCached: 10, io: io({ gpuBytes: 80_000 }) })];
    expect(summarizeSoak(rounds, { poolSubset: 2000, rounds: 1 }, 10).readbackOrderN).toBe(false);
  });
});

const machine = (o: Partial<Machine> = {}): Machine => ({
  date: '2026-01-01T00:00:00.000Z', mode: 'full', cores: 2, cpuModel: 'test', totalMemGB: 8, node: 'v20', chromium: '1', tfjs: '4.22.0',
  load: { start: '1 1 1', end: '1 1 1', min: 1, mean: 1, max: 1, samples: 1 },
  nodeWasm: { simd: true, threads: false }, page: null, durationS: 1, errors: [], ...o,
});

describe('evaluateTargets', () => {
  it('judges score + select against predicting the same pool, per place', () => {
    const k = { backend: 'wasm', measure: 'entropy' as const, n: 60_000, c: 10, k: 100, perRowMs: 100, runs: 3, samePicks: true, where: 'node' as const };
    const p = { backend: 'wasm', measure: 'predict' as const, model: 'cnn' as const, n: 512, chunkSize: 256, samples: 1, ms: 1000, imagesPerSec: 512, runs: 1, where: 'node' as const };
    const data = (tensorizedMs: number, ms60k: number): BenchData => ({
      machine: machine(), kernels: [{ ...k, tensorizedMs }], predict: [{ ...p, ms60k, extrapolated: true }], train: [], round: [], soak: [],
    });
    expect(evaluateTargets(data(10, 100_000))[0]!.verdict).toBe('met');
    expect(evaluateTargets(data(10_000, 100_000))[0]!.verdict).toBe('missed');
    const none = evaluateTargets({ ...data(10, 1), predict: [] })[0]!;
    expect(none.verdict).toBe('not measured');
  });

  it('the wasm training ratio target reads the wasm records only', () => {
    const t = { model: 'cnn' as const, batchSize: 32, steps: 2, epochStepMs: 100, samplesPerSec: 320, pairs: 3, forwardImagesPerSec: 1, profile: null, where: 'node' as const };
    const d: BenchData = {
      machine: machine(), kernels: [], predict: [], round: [], soak: [],
      train: [{ ...t, backend: 'wasm', stepMs: 30, forwardMs: 10, ratio: 3 }, { ...t, backend: 'cpu', stepMs: 400, forwardMs: 10, ratio: 40 }],
    };
    const r = evaluateTargets(d).find((x) => x.target.includes('training step'))!;
    expect(r.verdict).toBe('met');
    d.train[0]!.ratio = 3.6;
    expect(evaluateTargets(d).find((x) => x.target.includes('training step'))!.verdict).toBe('missed');
  });

  it('the PyTorch peer: wasm / PyTorch per thread count, and the 1.5x target at one thread', () => {
    const t = { model: 'cnn' as const, steps: 8, samplesPerSec: 320, pairs: 3, stepMs: 30, forwardMs: 10, ratio: 3, forwardImagesPerSec: 1, profile: null, where: 'node' as const };
    const p = { measure: 'predict' as const, model: 'cnn' as const, n: 60_000, chunkSize: 256, samples: 1, ms: 30_000, ms60k: 30_000, extrapolated: false, runs: 1, where: 'node' as const };
    const torch = { torch: '1.13.1', python: '3.11.2', executable: '/usr/bin/python3', cpus: 2, runs: [{ threads: 1, trainEpochS: [1.2, 1.0, 1.1], trainEpochCpuS: undefined as number[] | undefined, predictS: [10, 12] }, { threads: 2, trainEpochS: [0.5], predictS: [6] }] };
    const d: BenchData = {
      machine: machine(), kernels: [], round: [], soak: [], torch,
      // 16 steps of 100 ms = 1.6 s an epoch; 2,000 images/s = 5 s for 10,000. The 128 batch and cpu are not compared.
      train: [{ ...t, backend: 'wasm', batchSize: 32, epochStepMs: 100 }, { ...t, backend: 'wasm', batchSize: 128, epochStepMs: 1 }, { ...t, backend: 'cpu', batchSize: 32, epochStepMs: 1 }],
      predict: [{ ...p, backend: 'wasm', imagesPerSec: 2000 }, { ...p, backend: 'cpu', imagesPerSec: 1 }],
    };
    const ratios = torchRatios(torch, d.train, d.predict);
    expect(ratios.map((r) => [r.what, r.threads, r.wasmS, r.torchS])).toEqual([
      ['train epoch', 1, 1.6, 1.1], ['train epoch', 2, 1.6, 0.5], ['predict', 1, 5, 11], ['predict', 2, 5, 6],
    ]);
    expect(ratios[0]!.ratio).toBeCloseTo(1.6 / 1.1, 12);
    const target = (x: BenchData) => evaluateTargets(x).find((r) => r.target.startsWith('wasm training epoch'))!;
    expect(target(d).verdict).toBe('met'); // 1.45x
    d.train[0]!.epochStepMs = 110; // 1.76 s: 1.6x
    expect(target(d).verdict).toBe('missed');
    expect(target({ ...d, torch: null }).verdict).toBe('not measured');
    // With CPU time on both sides (one thread), the verdict reads it: 16 x 80 ms = 1.28 s vs 1.0 s.
    d.train[0]!.epochStepCpuMs = 80;
    torch.runs[0]!.trainEpochCpuS = [1.0];
    expect(torchRatios(torch, d.train, d.predict)[0]!.cpu).toEqual({ wasmS: 1.28, torchS: 1.0, ratio: 1.28 });
    expect(torchRatios(torch, d.train, d.predict)[1]!.cpu).toBeNull(); // two threads: CPU time is not comparable
    expect(target(d).verdict).toBe('met');
    // Interleaved epochs, where the run has them, are what is judged: medians, CPU time.
    const il = {
      wasm: [{ wallS: 3, cpuS: 2.0 }, { wallS: 9, cpuS: 2.6 }, { wallS: 4, cpuS: 2.2 }],
      torch: [{ wallS: 2, cpuS: 1.0 }, { wallS: 1, cpuS: 1.2 }, { wallS: 5, cpuS: 1.1 }],
    };
    const r = interleavedRatio(il);
    expect(r.wasm).toEqual({ wallS: 4, cpuS: 2.2 });
    expect(r.torch).toEqual({ wallS: 2, cpuS: 1.1 });
    expect(r.cpu).toBeCloseTo(2, 12);
    expect(r.wall).toBeCloseTo(2, 12);
    const withIl: BenchData = { ...d, torch: { ...torch, interleaved: il } };
    expect(target(withIl).verdict).toBe('missed'); // 2.0x, though the per-suite figures above give 1.28x
    expect(target(withIl).detail).toContain('CPU time 2.20 / 1.10 s = 2.00x (judged)');
    il.wasm.forEach((e) => (e.cpuS = 1.5)); // 1.5 / 1.1 = 1.36x
    expect(target(withIl).verdict).toBe('met');
    expect(renderReport(withIl)).toContain('| wasm / PyTorch | 2.00x | 1.36x |');
  });

  it('wasm threads count only in a cross-origin-isolated page', () => {
    const page = {
      userAgent: 'x', hardwareConcurrency: 2, crossOriginIsolated: false, renderer: null, webglVersion: 2, maxTextureSize: 8192,
      renderFloat32: true, wasmSimd: true, wasmThreads: false, wasmThreadsCount: 1,
    };
    const d = (p: typeof page): BenchData => ({ machine: machine({ page: p }), kernels: [], predict: [], train: [], round: [], soak: [] });
    const target = (x: BenchData) => evaluateTargets(x).find((t) => t.target.startsWith('wasm uses SIMD'))!.verdict;
    expect(target(d(page))).toBe('missed');
    expect(target(d({ ...page, crossOriginIsolated: true, wasmThreads: true }))).toBe('met');
  });
});

describe('spliceReport', () => {
  it('starts a document, then replaces only the generated section', () => {
    const first = spliceReport(null, 'v1', '# Benchmarks\n');
    expect(first).toContain(BEGIN_MARKER);
    expect(first).toContain('v1');
    const edited = first.replace('# Benchmarks', '# Benchmarks\n\nHand-written analysis.') + '\nMore notes.\n';
    const second = spliceReport(edited, 'v2', '# ignored');
    expect(second).toContain('Hand-written analysis.');
    expect(second).toContain('More notes.');
    expect(second).toContain('v2');
    expect(second).not.toContain('v1');
    expect(second.indexOf(BEGIN_MARKER)).toBeLessThan(second.indexOf(END_MARKER));
  });

  it('appends the section to a document without markers', () => {
    expect(spliceReport('# Notes\n', 'v1', '')).toMatch(/^# Notes\n\n<!-- bench:begin/);
  });
});
