/**
 * The stopping advice (engine/stopping.ts, engine/stop-set.ts): Cohen's kappa and each rule
 * against hand-computed cases, the device summaries against known probabilities, and the loop's
 * records and `stopWhen` with a learner whose predictions settle.
 */
import * as tf from '@tensorflow/tfjs';
import { mockLearner } from '../support/mock-learner.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Dataset } from '../../datasets/index.ts';
import { useBackend } from '../../src/backend/index.ts';
import { resolveConfig, runExperiment, stopSummary, type LearnerFactory, type RunRecord } from '../../src/engine/index.ts';
import { largestUncertainty, stopSetSummary } from '../../src/engine/stop-set.ts';
import { cohenKappa, stoppingAdvice, stopRound, type StoppingRecord } from '../../src/engine/stopping.ts';
import { validateResults } from '../../src/engine/results-file.ts';
import { stopMarkers } from '../../src/engine/results.ts';
import { renderChartSvg, summaryTable } from '../../src/cli/report.ts';

beforeAll(async () => {
  await useBackend('cpu');
});

describe("Cohen's kappa", () => {
  it('matches hand-computed values', () => {
    // po = 3/4; pe = (2/4)(1/4) + (2/4)(3/4) = 1/2; kappa = (3/4 - 1/2) / (1 - 1/2) = 1/2.
    expect(cohenKappa([0, 0, 1, 1], [0, 1, 1, 1], 2)).toBeCloseTo(0.5, 12);
    // po = 1/2; pe = 3 (1/3)(1/3) = 1/3; kappa = (1/2 - 1/3) / (2/3) = 1/4.
    expect(cohenKappa([0, 1, 2, 0, 1, 2], [0, 1, 2, 1, 2, 0], 3)).toBeCloseTo(0.25, 12);
    // Full disagreement on two balanced classes: po = 0, pe = 1/2, kappa = -1.
    expect(cohenKappa([0, 1], [1, 0], 2)).toBeCloseTo(-1, 12);
    expect(cohenKappa([2, 0, 1, 1], [2, 0, 1, 1], 3)).toBe(1);
    // Both constant: chance agreement is total; agreeing is 1, disagreeing 0.
    expect(cohenKappa([1, 1, 1], [1, 1, 1], 2)).toBe(1);
    expect(cohenKappa([1, 1, 1], [0, 0, 0], 2)).toBe(0);
  });

  it('refuses labelings of different lengths or out of range', () => {
    expect(() => cohenKappa([0, 1], [0], 2)).toThrow(/2 and 1 labels/);
    expect(() => cohenKappa([0, 2], [0, 1], 2)).toThrow(/not a class 0 to 1/);
  });
});

const round = (r: number, s: Partial<StoppingRecord> | null) => ({
  round: r, labeled: 10 + 5 * r, accuracy: 0.5 + r / 100,
  ...(s ? { stopping: { kappa: r === 0 ? null : 0.5, overallUncertainty: 0.5, maxConfidence: r === 0 ? null : 0.5, ...s } } : {}),
});

describe('the stopping rules', () => {
  it('stabilizing: the mean of the last three kappas reaches 0.99', () => {
    // Round 3: (0.98 + 0.995 + 0.999) / 3 = 0.99133 >= 0.99 (round 2's window holds round 0's null).
    const a = [round(0, {}), round(1, { kappa: 0.98 }), round(2, { kappa: 0.995 }), round(3, { kappa: 0.999 }), round(4, { kappa: 1 })];
    expect(stopRound('stabilizing', a)).toBe(3);
    // One dip of 0.96 keeps each window that holds it at 0.98667: round 6 is the first without it.
    const b = [round(0, {}), ...[1, 1, 0.96, 1, 1, 1].map((k, i) => round(i + 1, { kappa: k }))];
    expect(stopRound('stabilizing', b)).toBe(6);
    // Only two kappas: no window of three yet.
    expect(stopRound('stabilizing', [round(0, {}), round(1, { kappa: 1 }), round(2, { kappa: 1 })])).toBeNull();
  });

  it('overall uncertainty: the first round whose stop-set mean entropy is under 0.05', () => {
    const rs = [0.3, 0.1, 0.049, 0.01].map((u, r) => round(r, { overallUncertainty: u }));
    expect(stopRound('overall-uncertainty', rs)).toBe(2);
    expect(stopRound('overall-uncertainty', rs.slice(0, 2))).toBeNull();
  });

  it("max confidence: a round's queried rows all under 0.05 advise the round before (the model that chose them)", () => {
    const rs = [null, 0.6, 0.2, 0.04, 0.01].map((m, r) => round(r, { maxConfidence: m }));
    expect(stopRound('max-confidence', rs)).toBe(2);
  });

  it('advice per criterion, and a run ended by stopWhen keeps its own stop round', () => {
    const rs = [round(0, {}), round(1, { kappa: 1, overallUncertainty: 0.01 }), round(2, { kappa: 1 }), round(3, { kappa: 1 })];
    expect(stoppingAdvice(rs)).toEqual([
      { criterion: 'stabilizing', round: 3, labeled: 25, accuracy: 0.53 },
      { criterion: 'overall-uncertainty', round: 1, labeled: 15, accuracy: 0.51 },
      { criterion: 'max-confidence', round: null, labeled: null, accuracy: null },
    ]);
    expect(stoppingAdvice(rs, { criterion: 'max-confidence', round: 3 })[2]).toEqual({ criterion: 'max-confidence', round: 3, labeled: 25, accuracy: 0.53 });
    // Rounds without the advice (no stop set): nothing holds.
    expect(stoppingAdvice([round(0, null), round(1, null)]).every((a) => a.round === null)).toBe(true);
  });

  it("the summary: labels at the advice, labels saved and accuracy given up, over a strategy's repeats", () => {
    const run = (stable: number): RunRecord => ({
      strategy: 'entropy', repeat: 0, status: 'complete',
      rounds: [0, 1, 2, 3, 4, 5].map((r) => ({ ...round(r, { kappa: r >= stable - 2 && r > 0 ? 1 : 0.5 }), loss: 1, ece: 0, calibration: null, classCounts: [], selected: [], selectedScores: null, ms: { train: 0, predict: 0, score: 0, select: 0, evaluate: 0 } })),
    });
    // Stable at rounds 3 and 5: labels 25 and 35; saved 35 - 25 = 10 and 0; accuracy given up 0.55 - 0.53 = 0.02 and 0.
    const s = stopSummary('stabilizing', [run(3), run(5)]);
    expect(s.reached).toBe(2);
    expect(s.labels).toBe(30);
    expect(s.saved).toBe(5);
    expect(s.accuracyLost).toBeCloseTo(0.01, 12);
    expect(stopSummary('overall-uncertainty', [run(3)])).toEqual({ criterion: 'overall-uncertainty', reached: 0, labels: null, saved: null, accuracyLost: null });
  });
});

describe('the device summaries', () => {
  it('predicted classes and mean normalised entropy of known probabilities, leaking nothing', async () => {
    const probs = tf.tensor2d([[1, 0], [0.5, 0.5], [0.2, 0.8]]);
    const before = tf.memory().numTensors;
    const s = await stopSetSummary(probs);
    expect(Array.from(s.predicted)).toEqual([0, 0, 1]);
    const h = -(0.2 * Math.log(0.2) + 0.8 * Math.log(0.8)) / Math.log(2);
    expect(s.overallUncertainty).toBeCloseTo((0 + 1 + h) / 3, 5);
    expect(await largestUncertainty(probs)).toBeCloseTo(1, 5);
    const four = tf.tensor2d([[0.25, 0.25, 0.25, 0.25], [0.7, 0.1, 0.1, 0.1]]);
    expect(await largestUncertainty(four)).toBeCloseTo(1, 5);
    expect(tf.memory().numTensors).toBe(before + 1);
    probs.dispose();
    four.dispose();
  });
});

const C = 2;
function dataset(n = 120): Dataset<string> {
  return {
    name: 'tiny', shape: [1], numClasses: C, classNames: ['a', 'b'], kind: 'tabular',
    train: { x: Float32Array.from({ length: n }, (_, i) => i), y: Uint8Array.from({ length: n }, (_, i) => i % C), n },
    test: { x: new Float32Array(4), y: new Uint8Array(4), n: 4 },
  };
}

/**
 * A learner whose predictions sharpen with every fit: p(class i mod 2) = 1 - 0.4 / (fits + 1)
 * for row i, so the stop-set predictions never change (kappa 1) and the uncertainty falls.
 */
function settlingLearner(): LearnerFactory {
  return () => {
    let fits = 0;
    const probs = (idx: Int32Array) => {
      const p = 1 - 0.4 / (fits + 1) ** 2;
      return tf.tensor2d(Array.from(idx, (i) => (i % 2 === 0 ? [p, 1 - p] : [1 - p, p])), [idx.length, C]);
    };
    return mockLearner({ probs, numClasses: C, fit: async () => { fits++; }, accuracy: () => Math.min(1, 0.5 + fits / 20) });
  };
}

const config = (over: object) => resolveConfig({ dataset: 'classification', model: 'mlp', strategies: ['entropy', 'random'], initial: 4, query: 2, rounds: 8, testSubset: null, poolSubset: null, stopSet: 50, ...over });

describe('the loop records the advice and stops when told', () => {
  it('records kappa, overall and queried-row uncertainty every round, on a seeded stop set, leaking nothing', async () => {
    const before = tf.memory().numTensors;
    const res = await runExperiment(config({}), dataset(), { learner: settlingLearner() });
    expect(tf.memory().numTensors).toBe(before);
    const rounds = res.runs[0]!.rounds;
    expect(rounds).toHaveLength(9);
    expect(rounds[0]!.stopping!.kappa).toBeNull();
    expect(rounds[0]!.stopping!.maxConfidence).toBeNull();
    for (const r of rounds.slice(1)) expect(r.stopping!.kappa).toBe(1);
    // Fit f (round f - 1) predicts p = 1 - 0.4 / (f + 1)^2 on every row.
    const h = (p: number) => -(p * Math.log(p) + (1 - p) * Math.log(1 - p)) / Math.log(2);
    rounds.forEach((r, i) => expect(r.stopping!.overallUncertainty).toBeCloseTo(h(1 - 0.4 / (i + 2) ** 2), 4));
    // Round r's queried rows were chosen by round r - 1's model.
    rounds.slice(1).forEach((r, i) => expect(r.stopping!.maxConfidence).toBeCloseTo(h(1 - 0.4 / (i + 2) ** 2), 4));
    // Stable at round 3 (kappas of rounds 1-3); overall uncertainty h(0.99556) = 0.0449 at round 7; the
    // rows round 8 queries have h = 0.0449 under round 7's model: stop at 7. Labels 4 + 2 per round.
    expect(res.summary[0]!.stopping!.map((s) => [s.criterion, s.labels, s.saved])).toEqual([['stabilizing', 10, 10], ['overall-uncertainty', 18, 2], ['max-confidence', 18, 2]]);
    // The records pass the results-file checks and keep the advice.
    expect(validateResults(JSON.parse(JSON.stringify(res))).runs[0]!.rounds[3]!.stopping).toEqual(rounds[3]!.stopping);
    // Without a stop set: no advice at all.
    const none = await runExperiment(config({ stopSet: 0 }), dataset(), { learner: settlingLearner() });
    expect(none.runs[0]!.rounds.some((r) => 'stopping' in r)).toBe(false);
    expect(none.summary[0]!.stopping).toBeUndefined();
  });

  it('stopWhen ends each run at the round its criterion advises', async () => {
    // Round r's model: p = 1 - 0.4 / (r + 2)^2; h at round 6 is 0.0548, at round 7 0.0449 (< 0.05).
    const cases = [['stabilizing', 3], ['overall-uncertainty', 7], ['max-confidence', 7]] as const;
    for (const [criterion, at] of cases) {
      const res = await runExperiment(config({ stopWhen: criterion }), dataset(), { learner: settlingLearner() });
      for (const run of res.runs) {
        expect(run.status).toBe('complete');
        expect(run.stopped).toEqual({ criterion, round: at });
        expect(run.rounds.map((r) => r.round).at(-1)).toBe(at);
      }
      expect(validateResults(JSON.parse(JSON.stringify(res))).runs[0]!.stopped).toEqual({ criterion, round: at });
    }
  });

  it('a stopWhen without a stop set is a ConfigError naming the field', () => {
    expect(() => config({ stopWhen: 'stabilizing', stopSet: 0 })).toThrow(/^config\.stopWhen = 'stabilizing' is not allowed: 'never' when stopSet is 0/);
    expect(() => config({ stopWhen: 'soon' })).toThrow(/^config\.stopWhen = 'soon' is not allowed: one of never, stabilizing, overall-uncertainty, max-confidence/);
  });
});

describe('the advice shown', () => {
  it("a 'predictions stable at' column in the CLI summary and a 'stop here' marker on the learning curve", async () => {
    const res = await runExperiment(config({ strategies: ['entropy'] }), dataset(), { learner: settlingLearner() });
    // Stable at round 3 (10 labels) of 8 (20 labels); accuracy 0.5 + fits / 20: 0.7 then, 0.95 at the end.
    const table = summaryTable(res).split('\n');
    expect(table[0]).toMatch(/predictions stable at\s*$/);
    expect(table[2]).toMatch(/10: saves 10, −25\.0 pts\s*$/);
    expect(stopMarkers(res.runs)).toEqual([{ strategy: 'entropy', labeled: 10, text: 'entropy: predictions stable since round 3: stop here' }]);
    const svg = await renderChartSvg(res);
    expect(svg).toContain('entropy: predictions stable since round 3: stop here');
    // Over repeats: the mean labels of the repeats where it held.
    expect(stopMarkers([res.runs[0]!, { ...res.runs[0]!, repeat: 1, rounds: res.runs[0]!.rounds.slice(0, 3) }])).toEqual([
      { strategy: 'entropy', labeled: 10, text: 'entropy: predictions stable at 10 labels (1/2 repeats): stop here' },
    ]);
  });
});
