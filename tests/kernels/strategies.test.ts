import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  acquire, getStrategy, STRATEGIES, STRATEGY_NAMES, UnknownStrategyError, SelectionError,
  type AcquisitionInputs, type SetStrategy, type StrategyName,
} from '../../src/index.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend, TEST_BACKENDS } from '../support/backends.ts';

const REQUIRED = ['random', 'entropy', 'margin', 'leastConfidence', 'ratio', 'variance', 'predictiveEntropy', 'bald', 'variationRatio', 'meanStd'];

describe('strategy registry', () => {
  it('has every required strategy with its metadata as data', () => {
    for (const name of REQUIRED) expect(STRATEGY_NAMES).toContain(name);
    for (const name of STRATEGY_NAMES) {
      const s = STRATEGIES[name];
      expect(s.name).toBe(name);
      expect(s.label.length).toBeGreaterThan(0);
      expect(s.formula.length).toBeGreaterThan(0);
      expect(s.description.length).toBeGreaterThan(0);
    }
    expect(STRATEGIES.random.needs).toEqual([]);
    expect(STRATEGIES.entropy.needs).toEqual(['probs']);
    expect(STRATEGIES.bald.needs).toEqual(['mcSamples']);
  });

  it('an unknown name lists the known ones', () => {
    expect(() => getStrategy('entrpy')).toThrow(UnknownStrategyError);
    expect(() => getStrategy('entrpy')).toThrow(`unknown strategy 'entrpy'; known strategies: ${STRATEGY_NAMES.join(', ')}`);
    expect(getStrategy('margin')).toBe(STRATEGIES.margin);
  });
});

describe.each(TEST_BACKENDS)('strategies on %s', (backend) => {
  onBackend(backend);

  // Row 2 is the most uncertain by every single-pass measure; row 0 is the most certain.
  const PROBS = [[0.98, 0.01, 0.01], [0.7, 0.2, 0.1], [0.34, 0.33, 0.33], [0.5, 0.45, 0.05]];
  // MC passes: row 1 flips between classes (disagreement); row 0 is stable; row 2 is stably uniform.
  const MC = [
    [[0.9, 0.05, 0.05], [0.9, 0.05, 0.05], [1 / 3, 1 / 3, 1 / 3]],
    [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [1 / 3, 1 / 3, 1 / 3]],
    [[0.9, 0.05, 0.05], [0.05, 0.05, 0.9], [1 / 3, 1 / 3, 1 / 3]],
  ];

  function inputs(): AcquisitionInputs & { dispose(): void } {
    const probs = tf.tensor2d(PROBS);
    const mcSamples = tf.tensor3d(MC);
    return { n: 4, probs, mcSamples, rng: new Rng(1), dispose: () => { probs.dispose(); mcSamples.dispose(); } };
  }

  it.each(['entropy', 'margin', 'leastConfidence', 'ratio', 'variance'] as StrategyName[])(
    '%s: higher = ask first (the near-uniform row first, the confident row last)',
    async (name) => {
      const inp = inputs();
      const { indices, scores } = await acquire(STRATEGIES[name], inp, 4);
      expect(indices[0]).toBe(2);
      expect(indices[3]).toBe(0);
      expect(scores).toHaveLength(4);
      inp.dispose();
    },
  );

  it.each(['bald', 'variationRatio', 'meanStd'] as StrategyName[])('%s asks first where the passes disagree', async (name) => {
    const inp = { ...inputs(), n: 3 };
    const { indices } = await acquire(STRATEGIES[name], inp, 1);
    expect(Array.from(indices)).toEqual([1]);
    inp.dispose();
  });

  it('predictiveEntropy cannot tell disagreement from stable uncertainty (BALD can)', async () => {
    // Rows 1 and 2 both have a uniform mean, so both have predictive entropy log 3 (equal up to
    // rounding, so their order is not asserted). BALD above separates them: only row 1's
    // passes disagree.
    const inp = { ...inputs(), n: 3 };
    const { indices, scores } = await acquire(STRATEGIES.predictiveEntropy, inp, 3);
    expect(new Set([indices[0], indices[1]])).toEqual(new Set([1, 2]));
    expect(indices[2]).toBe(0);
    expect(scores![1]).toBeCloseTo(Math.log(3), 4);
    expect(scores![2]).toBeCloseTo(Math.log(3), 4);
    inp.dispose();
  });

  it('random is reproducible per seed, differs across seeds, and respects exclusion', async () => {
    const pick = async (seed: number) =>
      Array.from((await acquire(STRATEGIES.random, { n: 1000, rng: new Rng(seed) }, 10, { exclude: [0, 1, 2] })).indices);
    const a = await pick(5);
    expect(await pick(5)).toEqual(a);
    expect(await pick(6)).not.toEqual(a);
    expect(a.some((i) => i < 3)).toBe(false);
    expect(new Set(a).size).toBe(10);
  });

  it('a strategy that needs an input the loop did not provide says which', async () => {
    await expect(acquire(STRATEGIES.bald, { n: 2, rng: new Rng(1) }, 1)).rejects.toThrow(
      "strategy 'bald' needs 'mcSamples' but the loop did not provide it",
    );
  });

  it('a set strategy fits the same interface', async () => {
    const everyOther: SetStrategy = {
      kind: 'set', name: 'everyOther', label: 'Every other', formula: '-', description: 'test double', needs: [],
      select: async (inp, k) => Int32Array.from({ length: Math.min(k, Math.ceil(inp.n / 2)) }, (_, i) => 2 * i),
    };
    const r = await acquire(everyOther, { n: 7, rng: new Rng(1) }, 3);
    expect(Array.from(r.indices)).toEqual([0, 2, 4]);
    expect(r.scores).toBeNull();
    await expect(acquire(everyOther, { n: 7, rng: new Rng(1) }, 0)).rejects.toThrow(SelectionError);
  });

  const SCORING = STRATEGY_NAMES.filter((n) => STRATEGIES[n].kind === 'score');
  it.each(SCORING)('%s: score() returns one [N] tensor; acquire leaks nothing', async (name) => {
    const inp = inputs();
    const s = STRATEGIES[name];
    if (s.kind !== 'score') throw new Error('unreachable');
    const n = s.needs.includes('mcSamples') ? 3 : 4;
    const x = { ...inp, n };
    (await acquire(s, x, 2)); // warm up
    const before = tf.memory().numTensors;
    const scores = s.score(x);
    expect(scores.shape).toEqual([n]);
    expect(tf.memory().numTensors).toBe(before + 1);
    scores.dispose();
    await acquire(s, x, 2);
    expect(tf.memory().numTensors).toBe(before);
    inp.dispose();
  });
});
