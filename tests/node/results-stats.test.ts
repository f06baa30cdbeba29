/** The summary's paired statistics against random: what it pairs, its numbers, and the CLI table's columns. */
import { describe, expect, it } from 'vitest';
import { summaryTable } from '../../src/cli/report.ts';
import { DEFAULT_CONFIG } from '../../src/engine/config.ts';
import { areaUnderLearningCurve, compareStrategies, pairedStat, STATISTICS_SEED, summarize, type ExperimentResults, type RunRecord } from '../../src/engine/results.ts';
import { comparePaired, wilcoxonSignedRank } from '../../src/engine/statistics.ts';
import { Rng } from '../../src/rng.ts';

/** A run whose accuracy at 10, 20, 30 labels is `accs`. */
function run(strategy: string, repeat: number, accs: number[]): RunRecord {
  return {
    strategy, repeat, status: 'complete',
    rounds: accs.map((accuracy, round) => ({
      round, labeled: 10 * (round + 1), accuracy, loss: 1, ece: 0, calibration: null, classCounts: [5, 5], selected: [], selectedScores: null,
      ms: { train: 0, predict: 0, score: 0, select: 0, evaluate: 0 },
    })),
  };
}

// Five repeats: bald beats random in every one, by distinct amounts; it reaches 0.8 in all five,
// random in repeats 0, 1 and 3 only.
const RANDOM = [[0.5, 0.7, 0.8], [0.5, 0.8, 0.85], [0.5, 0.6, 0.7], [0.5, 0.7, 0.8], [0.5, 0.65, 0.75]];
const BALD = [[0.5, 0.8, 0.9], [0.5, 0.85, 0.9], [0.5, 0.75, 0.85], [0.5, 0.72, 0.82], [0.5, 0.8, 0.95]];
const runs = [...RANDOM.map((a, r) => run('random', r, a)), ...BALD.map((a, r) => run('bald', r, a))];

describe('summary: each strategy against random, paired by repeat', () => {
  it('ALC: the mean of the per-repeat differences, a 95% interval around it, exact Wilcoxon and permutation p', () => {
    const s = summarize(runs, 0.8);
    const bald = s.find((x) => x.strategy === 'bald')!;
    expect(s.find((x) => x.strategy === 'random')!.vsRandom).toBeNull();
    const d = BALD.map((a, r) => areaUnderLearningCurve(run('bald', r, a).rounds) - areaUnderLearningCurve(run('random', r, RANDOM[r]!).rounds));
    const alc = bald.vsRandom!.alc;
    expect(alc.pairs).toBe(5);
    expect(alc.meanDifference).toBeCloseTo(d.reduce((a, b) => a + b, 0) / 5, 12);
    expect(alc.low).toBeLessThanOrEqual(alc.meanDifference);
    expect(alc.high).toBeGreaterThanOrEqual(alc.meanDifference);
    expect(alc.low).toBeGreaterThanOrEqual(Math.min(...d)); // a bootstrap mean lies within the data
    expect(alc.high).toBeLessThanOrEqual(Math.max(...d));
    // Every difference positive and distinct: both exact two-sided p-values are 2 / 2^5.
    expect(alc.wilcoxonP).toBeCloseTo(0.0625, 12);
    expect(alc.wilcoxonP).toBe(wilcoxonSignedRank(d).pValue);
    expect(alc.permutationP).toBeCloseTo(0.0625, 12);
    // Labels to 0.8: pairs only where both reached it (repeats 0, 1, 3): bald 20, 20, 30 vs random 30, 20, 30.
    const labels = bald.vsRandom!.labelsToTarget!;
    expect(labels.pairs).toBe(3);
    expect(labels.meanDifference).toBeCloseTo(-10 / 3, 12);
    // Seeded: the same runs give the same interval wherever the summary is recomputed.
    expect(summarize(runs, 0.8)).toEqual(s);
    expect(compareStrategies(runs, 'bald', 'random', 0.8)).toEqual(bald.vsRandom);
  });

  it('a comparison asked again (answered from the cache) is the computed one; changing a returned answer changes no other', () => {
    const a = [0.61, 0.7, 0.66, 0.72, 0.69, 0.75, 0.64, 0.71], b = [0.6, 0.65, 0.67, 0.7, 0.61, 0.74, 0.6, 0.73];
    const c = comparePaired(a, b, { rng: new Rng(STATISTICS_SEED).fork('cache-test:alc') });
    const want = { pairs: c.n, meanDifference: c.meanDifference, low: c.interval.low, high: c.interval.high, wilcoxonP: c.wilcoxon.pValue, permutationP: c.signFlip.pValue };
    const first = pairedStat(a, b, 'cache-test:alc')!;
    expect(first).toEqual(want);
    first.low = 99;
    expect(pairedStat([...a], [...b], 'cache-test:alc')).toEqual(want);
    // Another name is another stream, so another interval; other values, another answer.
    expect(pairedStat(a, b, 'cache-test:other')!.low).not.toBe(want.low);
    expect(pairedStat(a, [...b.slice(0, 7), 0.81], 'cache-test:alc')!.meanDifference).toBeCloseTo(want.meanDifference - 0.01, 12);
  });

  it('one repeat, or no random run: no comparison; any pair on request', () => {
    expect(summarize(runs.filter((r) => r.repeat === 0), 0.8).every((x) => x.vsRandom === null)).toBe(true);
    expect(summarize(runs.filter((r) => r.strategy === 'bald'), 0.8)[0]!.vsRandom).toBeNull();
    expect(compareStrategies(runs, 'random', 'bald', 0.8)!.alc.meanDifference).toBeLessThan(0);
  });

  it('the CLI table adds the paired columns and says what they are', () => {
    const results = { config: { ...DEFAULT_CONFIG, target: 0.8 }, summary: summarize(runs, 0.8) } as ExperimentResults;
    const text = summaryTable(results);
    expect(text).toContain('ALC - random');
    expect(text).toContain('labels - random');
    expect(text).toMatch(/bald .* \+0\.\d{4} \[\+0\.\d{4}, \+0\.\d{4}\] p=0\.063\/0\.063 \(n=5\)/);
    expect(text).toContain('exact Wilcoxon signed-rank / exact sign-flip permutation');
    const single = { config: DEFAULT_CONFIG, summary: summarize(runs.filter((r) => r.repeat === 0), 0.8) } as ExperimentResults;
    expect(summaryTable(single)).not.toContain('ALC - random');
  });

  it('the CLI table gives ALC and labels to the target as mean ± std over the repeats', () => {
    const results = { config: { ...DEFAULT_CONFIG, target: 0.8 }, summary: summarize(runs, 0.8), runs } as ExperimentResults;
    const lines = summaryTable(results).split('\n');
    expect(lines[0]).toContain('labels to 80% (mean ± std, reached)');
    // bald's ALCs by hand: 0.75, 0.775, 0.7125, 0.69, 0.7625 (mean 0.738, sample std 0.0356);
    // its labels to 80%: 20, 20, 30, 30, 20 (mean 24, std 5.48); random's: 30, 20, 30 in 3 of 5.
    const bald = lines.find((l) => l.startsWith('bald'))!;
    const random = lines.find((l) => l.startsWith('random'))!;
    expect(bald).toContain('0.7380 ± 0.0356');
    expect(bald).toContain('24 ± 5 (5/5)');
    expect(random).toContain('27 ± 6 (3/5)'); // 30, 20, 30: mean 26.7, std 5.77
    // One repeat: no ± at all.
    const one = runs.filter((r) => r.repeat === 0);
    const oneBald = summaryTable({ config: results.config, summary: summarize(one, 0.8), runs: one } as ExperimentResults).split('\n').find((l) => l.startsWith('bald'))!;
    expect(oneBald).toMatch(/ 0\.7500 +20 \(1\/1\)/);
    expect(summaryTable({ config: { ...DEFAULT_CONFIG, target: 0.99 }, summary: summarize(runs, 0.99), runs } as ExperimentResults)).toContain('not reached (0/5)');
  });
});
