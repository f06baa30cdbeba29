/** The sweep benchmark's verdict and its own section of docs/benchmarks.md (bench/report.ts; pure). */
import { describe, expect, it } from 'vitest';
import { BEGIN_MARKER, END_MARKER, renderSweepReport, spliceReport, sweepTarget, SWEEP_BEGIN_MARKER, SWEEP_END_MARKER } from '../../bench/report.ts';
import { sweepPlan } from '../../bench/plan.ts';
import type { SweepBenchRecord } from '../../bench/sweep-bench.ts';

const record = (ratio: number, sameResults = true, cores = 2): SweepBenchRecord => ({
  plan: sweepPlan(false), cores, cpuModel: 'Test CPU', totalMemGB: 8, node: 'v20.0.0', date: '2026-01-02T03:04:05.000Z',
  runs: [
    { jobs: 1, order: 0, wallMs: 40_000, mainPeakRssBytes: 400 * 2 ** 20, workers: [{ worker: 1, cells: 4, peakRssBytes: 400 * 2 ** 20, peakTensorBytes: 2 ** 20 }], load: [1, 1.5] },
    { jobs: 2, order: 1, wallMs: 40_000 / ratio, mainPeakRssBytes: 200 * 2 ** 20, workers: [{ worker: 1, cells: 2, peakRssBytes: 350 * 2 ** 20, peakTensorBytes: 2 ** 20 }, { worker: 2, cells: 2, peakRssBytes: 360 * 2 ** 20, peakTensorBytes: 2 ** 20 }], load: [1.5, 2] },
  ],
  ratio, pairRatios: [ratio], sameResults,
});

describe('sweep benchmark report', () => {
  it('judges the 1.7x target on 2 cores, and equal results first', () => {
    expect(sweepTarget(record(1.8)).verdict).toBe('met');
    expect(sweepTarget(record(1.6)).verdict).toBe('missed');
    expect(sweepTarget(record(1.9, false)).verdict).toBe('missed');
    expect(sweepTarget(record(1.0, true, 1)).verdict).toBe('not measured');
    expect(sweepTarget(record(1.6)).detail).toBe('1.60x (median wall time; pairs 1.60x) on 2 cores; results equal');
  });

  it('renders the command, the machine, each run with its memory, and the verdict', () => {
    const md = renderSweepReport(record(1.75));
    expect(md).toContain('`npm run experiment -- --dataset mnist --model cnn --strategies entropy,random --repeats 2');
    expect(md).toContain('2 cores, Test CPU, 8 GB RAM, Node v20.0.0');
    expect(md).toContain('| **met** |');
    expect(md).toContain('| 2 | 2 | 22.9 | 200 MiB | #1: 2, 350 MiB, 1.0 MB; #2: 2, 360 MiB, 1.0 MB | 1.50 → 2.00 |');
  });

  it('keeps its own section beside the main one, each replaced in place', () => {
    const both = spliceReport(spliceReport(null, 'main v1', '# Benchmarks\n'), 'sweep v1', '', [SWEEP_BEGIN_MARKER, SWEEP_END_MARKER]);
    expect(both).toBe(`# Benchmarks\n\n${BEGIN_MARKER}\nmain v1\n${END_MARKER}\n\n${SWEEP_BEGIN_MARKER}\nsweep v1\n${SWEEP_END_MARKER}\n`);
    const next = spliceReport(spliceReport(both, 'sweep v2', '', [SWEEP_BEGIN_MARKER, SWEEP_END_MARKER]), 'main v2', '');
    expect(next).toBe(both.replace('main v1', 'main v2').replace('sweep v1', 'sweep v2'));
  });
});
