/**
 * Stochastic batch acquisition (power, softmax, softrank; Gumbel-top-k): the selection rules on
 * plain numbers, the draw distributions against the formulas, and the tensor entry point on every
 * backend of this environment.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  STOCHASTIC_MODES, stochasticIndices, stochasticLogWeights, stochasticSelect, type StochasticMode,
} from '../../src/acquisition/batch/stochastic.ts';
import { SelectionError } from '../../src/acquisition/errors.ts';
import { topKIndices } from '../../src/acquisition/select.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend, TEST_BACKENDS } from '../support/backends.ts';

/** The first-pick probabilities of the open rows, written from the paper's formulas. */
function formulaProbs(scores: number[], open: number[], mode: StochasticMode, beta: number): number[] {
  let w: number[];
  if (mode === 'power') w = open.map((i) => Math.pow(scores[i]!, beta));
  else if (mode === 'softmax') w = open.map((i) => Math.exp(beta * scores[i]!));
  else {
    const byScore = [...open].sort((a, b) => scores[b]! - scores[a]!);
    w = open.map((i) => Math.pow(byScore.indexOf(i) + 1, -beta));
  }
  const z = w.reduce((a, b) => a + b, 0);
  return w.map((v) => v / z);
}

/** Pearson's chi-square statistic of observed counts against expected probabilities. */
function chiSquare(counts: number[], probs: number[], total: number): number {
  return counts.reduce((a, o, j) => a + (o - probs[j]! * total) ** 2 / (probs[j]! * total), 0);
}
// Upper 0.1% points of the chi-square distribution (df 4 and 19).
const CHI2_999 = { 4: 18.467, 19: 43.82 } as const;

const DRAWS = 20_000;
// Rows 5 (NaN) and 6 (excluded) must never come out; the open rows are 0-4 and 7.
const SCORES = [0.05, 0.4, 0.2, 1.6, 0.8, Number.NaN, 5, 0.1];
const EXCLUDE = [6];
const OPEN = [0, 1, 2, 3, 4, 7];

describe('stochastic batch selection (plain numbers)', () => {
  it.each(STOCHASTIC_MODES)('%s: very large beta (1e6) and beta = Infinity give top-k exactly', (mode) => {
    const rng = new Rng(1);
    for (let trial = 0; trial < 20; trial++) {
      const scores = Array.from({ length: 30 }, (_, i) => 0.01 + ((i * 7919 + trial * 104729) % 997) / 997); // distinct, > 0
      const exclude = [trial % 30, (trial * 3 + 1) % 30];
      const want = Array.from(topKIndices(scores, 10, Uint8Array.from(scores, (_, i) => (exclude.includes(i) ? 1 : 0))));
      expect(Array.from(stochasticIndices(scores, 10, { mode, beta: 1e6, rng, exclude }))).toEqual(want);
      expect(Array.from(stochasticIndices(scores, 10, { mode, beta: Infinity, rng, exclude }))).toEqual(want);
    }
  });

  it.each(STOCHASTIC_MODES)('%s: the same seed gives the same batch; other seeds give other batches', (mode) => {
    const draw = (seed: number) => Array.from(stochasticIndices(SCORES, 4, { mode, beta: 1, rng: new Rng(seed), exclude: EXCLUDE }));
    expect(draw(42)).toEqual(draw(42));
    const batches = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((s) => draw(s).join(',')));
    expect(batches.size).toBeGreaterThan(1);
  });

  it.each(STOCHASTIC_MODES)('%s: excluded rows and NaN scores are never drawn, even when k asks for every row', (mode) => {
    for (let seed = 0; seed < 500; seed++) {
      const got = Array.from(stochasticIndices(SCORES, 8, { mode, beta: 1, rng: new Rng(seed), exclude: Uint8Array.from(SCORES, (_, i) => (i === 6 ? 1 : 0)) }));
      expect([...got].sort((a, b) => a - b)).toEqual(OPEN);
    }
  });

  it.each([
    ['power', 1], ['power', 2], ['softmax', 1], ['softmax', 3], ['softrank', 1], ['softrank', 0.5],
  ] as [StochasticMode, number][])('%s, beta %s: first picks and ordered first pairs follow the stated probabilities (chi-square, p > 0.001)', (mode, beta) => {
    // Five open rows (0-4; 5 is NaN, 6 excluded) so the pair table (20 cells) stays well filled.
    const scores = SCORES.slice(0, 7);
    const open = [0, 1, 2, 3, 4];
    const p = formulaProbs(scores, open, mode, beta);
    const first = new Array<number>(5).fill(0);
    const pairs = new Array<number>(25).fill(0);
    for (let seed = 0; seed < DRAWS; seed++) {
      const [a, b] = stochasticIndices(scores, 2, { mode, beta, rng: new Rng(seed), exclude: [6] });
      first[a!]!++;
      pairs[a! * 5 + b!]!++;
    }
    expect(chiSquare(first, p, DRAWS)).toBeLessThan(CHI2_999[4]);
    // Without replacement: P(a, then b) = p_a p_b / (1 - p_a).
    const cells: number[] = [], probs: number[] = [];
    for (const a of open) for (const b of open) if (a !== b) { cells.push(pairs[a * 5 + b]!); probs.push((p[a]! * p[b]!) / (1 - p[a]!)); }
    expect(chiSquare(cells, probs, DRAWS)).toBeLessThan(CHI2_999[19]);
    // And the statistic sees a wrong distribution: the counts are far from uniform unless p is.
    if (Math.max(...p) - Math.min(...p) > 0.1) expect(chiSquare(first, p.map(() => 0.2), DRAWS)).toBeGreaterThan(100);
  });

  it('beta = 0 is uniform over the open rows', () => {
    const counts = new Array<number>(SCORES.length).fill(0);
    for (let seed = 0; seed < DRAWS; seed++) counts[stochasticIndices(SCORES, 1, { mode: 'softmax', beta: 0, rng: new Rng(seed), exclude: EXCLUDE })[0]!]!++;
    expect(counts[5]).toBe(0);
    expect(counts[6]).toBe(0);
    const observed = OPEN.map((i) => counts[i]!);
    expect(chiSquare(observed, OPEN.map(() => 1 / 6), DRAWS)).toBeLessThan(20.515); // df 5, p = 0.001
  });

  it('weight 0 comes after every positive weight; infinite weight comes first', () => {
    const scores = [0, 0.3, 0, 0.7, Infinity, 0.1];
    for (let seed = 0; seed < 200; seed++) {
      const got = Array.from(stochasticIndices(scores, 6, { mode: 'power', beta: 1, rng: new Rng(seed) }));
      expect(got[0]).toBe(4);
      expect(new Set(got.slice(1, 4))).toEqual(new Set([1, 3, 5]));
      expect(new Set(got.slice(4))).toEqual(new Set([0, 2]));
    }
    const soft = Array.from(stochasticIndices([-Infinity, 1, -Infinity], 3, { mode: 'softmax', beta: 1, rng: new Rng(3) }));
    expect(soft[0]).toBe(1);
    expect(stochasticIndices([-Infinity, -Infinity], 2, { mode: 'softmax', beta: 1, rng: new Rng(3) })).toHaveLength(2);
  });

  it('log-weights follow the formulas; NaN marks rows never drawn', () => {
    const lw = stochasticLogWeights([0.5, 2, Number.NaN, 1], 'power', 2, Uint8Array.of(0, 0, 0, 1));
    expect(lw[0]).toBeCloseTo(2 * Math.log(0.5), 12);
    expect(lw[1]).toBeCloseTo(2 * Math.log(2), 12);
    expect(lw[2]).toBeNaN();
    expect(lw[3]).toBeNaN();
    const sm = stochasticLogWeights([1, 3, 2], 'softmax', 2);
    expect(Array.from(sm)).toEqual([-4, 0, -2]);
    const sr = stochasticLogWeights([1, 3, 2, 3], 'softrank', 1); // ties: the lower index ranks first
    expect(Array.from(sr)).toEqual([-Math.log(4), -Math.log(1), -Math.log(3), -Math.log(2)]);
  });

  it('says what is wrong', () => {
    const rng = new Rng(1);
    expect(() => stochasticIndices([0.2, -0.1], 1, { mode: 'power', rng })).toThrow(/row 1 has score -0.1/);
    expect(() => stochasticIndices([0.2, -0.1], 1, { mode: 'power', beta: Infinity, rng })).toThrow(/row 1/);
    expect(() => stochasticIndices([0.2], 1, { mode: 'gumbel' as StochasticMode, rng })).toThrow(/known modes: power, softmax, softrank/);
    expect(() => stochasticIndices([0.2], 1, { mode: 'softmax', beta: -1, rng })).toThrow(/beta must be >= 0/);
    expect(() => stochasticIndices([0.2], 1, { mode: 'softmax', beta: Number.NaN, rng })).toThrow(SelectionError);
    expect(() => stochasticIndices([0.2], 0, { mode: 'softmax', rng })).toThrow(/k must be a positive integer/);
    expect(() => stochasticIndices([0.2], 1, { mode: 'softmax', rng, exclude: [3] })).toThrow(/exclude\[0\] = 3/);
    expect(() => stochasticIndices([0.2], 1, { mode: 'softmax' } as never)).toThrow(/rng/);
    // signed scores are fine for softmax and softrank
    expect(stochasticIndices([0.2, -0.1], 2, { mode: 'softmax', rng })).toHaveLength(2);
    expect(stochasticIndices([0.2, -0.1], 2, { mode: 'softrank', rng })).toHaveLength(2);
  });
});

describe.each(TEST_BACKENDS)('stochasticSelect on %s', (backend) => {
  onBackend(backend);

  it.each(STOCHASTIC_MODES)('%s: reads the scores once and draws what stochasticIndices draws; leaks nothing', async (mode) => {
    const scores = tf.tensor1d(SCORES);
    await stochasticSelect(scores, 3, { mode, rng: new Rng(1), exclude: EXCLUDE }); // warm up
    const before = tf.memory().numTensors;
    const got = await stochasticSelect(scores, 3, { mode, beta: 2, rng: new Rng(9), exclude: EXCLUDE });
    expect(tf.memory().numTensors).toBe(before);
    const values = await scores.data();
    expect(Array.from(got)).toEqual(Array.from(stochasticIndices(values, 3, { mode, beta: 2, rng: new Rng(9), exclude: EXCLUDE })));
    expect(got).not.toContain(5);
    expect(got).not.toContain(6);
    scores.dispose();
  });

  it('refuses a score tensor that is not [N]', async () => {
    const m = tf.zeros([2, 2]);
    await expect(stochasticSelect(m, 1, { mode: 'softmax', rng: new Rng(1) })).rejects.toThrow(/rank-1 tensor \[N\], got shape \[2, 2\]/);
    m.dispose();
  });
});
