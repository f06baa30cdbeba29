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
    expect(STRATEGIES.batchBald.needs).toEqual(['mcSamples', 'jointMcSamples']); // consistent passes: joint predictions need one ω per pass
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

  // Three members over the four rows: they agree on row 0, split their votes three ways on row 3,
  // and are each unsure on row 2 (so the consensus is near-uniform there, but no vote splits);
  // on row 0 they are identical.
  const COMMITTEE = [
    [[0.9, 0.05, 0.05], [0.8, 0.1, 0.1], [0.4, 0.35, 0.25], [0.8, 0.1, 0.1]],
    [[0.9, 0.05, 0.05], [0.7, 0.2, 0.1], [0.4, 0.3, 0.3], [0.1, 0.8, 0.1]],
    [[0.9, 0.05, 0.05], [0.75, 0.05, 0.2], [0.45, 0.3, 0.25], [0.1, 0.1, 0.8]],
  ];

  function inputs(): AcquisitionInputs & { dispose(): void } {
    const probs = tf.tensor2d(PROBS);
    const mcLogits = tf.tidy(() => tf.log(tf.tensor3d(MC)) as tf.Tensor3D); // the loop hands the strategies MC logits
    const committee = tf.tensor3d(COMMITTEE);
    return { n: 4, probs, mcLogits, committee, rng: new Rng(1), dispose: () => tf.dispose([probs, mcLogits, committee]) };
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

  it.each(['voteEntropy', 'consensusEntropy', 'maxDisagreement'] as StrategyName[])('%s asks first where the committee disagrees; identical members score least', async (name) => {
    const inp = inputs();
    const { indices, scores } = await acquire(STRATEGIES[name], inp, 4);
    expect(indices[0]).toBe(3);
    for (const v of scores!) expect(v).toBeGreaterThanOrEqual(scores![0]! - 1e-6); // row 0: the least disagreement
    if (name !== 'consensusEntropy') expect(scores![0]).toBeCloseTo(0, 5); // identical members do not disagree
    if (name === 'voteEntropy') expect(scores![3]).toBeCloseTo(Math.log(3), 5); // one vote per class
    inp.dispose();
  });

  it('batchBald through acquire: the greedy BatchBALD batch, never an excluded row; k = 1 is the BALD maximiser', async () => {
    const inp = { ...inputs(), n: 3 };
    const { batchBald } = await import('../../src/acquisition/batch/batch-bald.ts');
    const viaAcquire = await acquire(STRATEGIES.batchBald, inp, 2, { exclude: [1] });
    const direct = await batchBald(inp.mcLogits!, 2, { rng: new Rng(9), exclude: Uint8Array.of(0, 1, 0), fromLogits: true });
    expect(Array.from(viaAcquire.indices)).toEqual(Array.from(direct.indices));
    expect(Array.from(viaAcquire.indices)).not.toContain(1);
    expect(viaAcquire.scores).toBeNull();
    const bald = await acquire(STRATEGIES.bald, inp, 1);
    expect(Array.from((await acquire(STRATEGIES.batchBald, inp, 1)).indices)).toEqual(Array.from(bald.indices));
    inp.dispose();
  });

  it('stochastic batches through acquire: a very large beta is top-k; the same seed gives the same batch; excluded and NaN rows are never drawn', async () => {
    const n = 200;
    const values = Float32Array.from({ length: n }, (_, i) => (i % 17 === 0 ? Number.NaN : ((i * 7919) % 211) / 211));
    const scorer = { ...STRATEGIES.entropy, score: () => tf.tensor1d(values) };
    const exclude = [3, 5, 8, 13];
    const top = await acquire(scorer, { n, rng: new Rng(1) }, 20, { exclude });
    const cold = await acquire(scorer, { n, rng: new Rng(1) }, 20, { exclude, stochastic: { mode: 'softmax', beta: 1e6 } });
    expect(Array.from(cold.indices)).toEqual(Array.from(top.indices));
    for (const mode of ['power', 'softmax', 'softrank'] as const) {
      const draw = async (seed: number) => Array.from((await acquire(scorer, { n, rng: new Rng(seed) }, 20, { exclude, stochastic: { mode, beta: 1 } })).indices);
      const a = await draw(4);
      expect(await draw(4)).toEqual(a);
      expect(await draw(5)).not.toEqual(a);
      expect(new Set(a).size).toBe(20);
      for (const i of a) {
        expect(exclude).not.toContain(i);
        expect(Number.isNaN(values[i]!)).toBe(false);
      }
    }
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
      "strategy 'bald' needs 'mcLogits' but the loop did not provide it",
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
