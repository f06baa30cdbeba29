import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, resolveConfig } from '../../src/engine/index.ts';

describe('resolveConfig', () => {
  it('fills the defaults', () => {
    expect(resolveConfig()).toEqual(DEFAULT_CONFIG);
    expect(resolveConfig({ rounds: 3 }).rounds).toBe(3);
  });

  it("backend: 'auto' by default; null (older links and results files: the environment's default) reads as 'auto'", () => {
    expect(DEFAULT_CONFIG.backend).toBe('auto');
    expect(resolveConfig({ backend: 'auto' }).backend).toBe('auto');
    expect(resolveConfig({ backend: null } as never).backend).toBe('auto');
    for (const b of ['webgl', 'webgpu', 'wasm', 'cpu'] as const) expect(resolveConfig({ backend: b }).backend).toBe(b);
  });

  it.each([
    [{ dataset: 'cifar' }, "config.dataset = 'cifar' is not allowed: one of mnist, fashion-mnist, moons, blobs, classification"],
    [{ model: 'resnet' }, "config.model = 'resnet' is not allowed: one of logreg, mlp, cnn, kirschCnn"],
    [{ strategies: [] }, 'config.strategies = [] is not allowed: a non-empty list of random, entropy'],
    [{ strategies: ['entropy', 'entropy'] }, "config.strategies = ['entropy', 'entropy'] is not allowed: each strategy at most once"],
    [{ strategies: ['bald'], model: 'logreg' }, "config.strategies = ['bald'] is not allowed: MC-dropout strategies need a model with dropout; 'logreg' has none (use mlp or cnn)"],
    [{ dataset: 'moons', model: 'cnn' }, "config.model = 'cnn' is not allowed: a model for points data (moons); 'cnn' takes image inputs"],
    [{ initial: 5, balanced: true }, 'config.initial = 5 is not allowed: at least the number of classes (10) when balanced is true'],
    [{ initial: 0 }, 'config.initial = 0 is not allowed: an integer from 1 to 60000'],
    [{ query: 2.5 }, 'config.query = 2.5 is not allowed: an integer from 1 to 60000'],
    [{ query: 70_000 }, 'config.query = 70000 is not allowed: an integer from 1 to 60000'],
    [{ mcSamples: 1 }, 'config.mcSamples = 1 is not allowed: an integer from 2 to 1000'],
    [{ committee: 1 }, 'config.committee = 1 is not allowed: at least 2 members: a committee of one never disagrees with itself'],
    [{ committee: 2.5 }, 'config.committee = 2.5 is not allowed: an integer from 2 to 100'],
    [{ stochastic: 'gumbel' }, "config.stochastic = 'gumbel' is not allowed: null (top-k) or one of power, softmax, softrank"],
    [{ stochastic: 'power', strategies: ['entropy', 'margin'] }, "config.stochastic = 'power' is not allowed: softmax or softrank with margin: power sampling (p ∝ s^β) needs scores >= 0"],
    [{ stochasticBeta: -1 }, 'config.stochasticBeta = -1 is not allowed: a finite number >= 0'],
    [{ target: 1.5 }, 'config.target = 1.5 is not allowed: a number in (0, 1]'],
    [{ seed: Number.NaN }, 'config.seed = NaN is not allowed: a finite number'],
    [{ backend: 'tpu' }, "config.backend = 'tpu' is not allowed: one of auto, webgl, webgpu, wasm, cpu"],
    [{ dataset: 'classification', initial: 400, validation: 100, model: 'mlp' }, 'config.initial = 400 is not allowed: initial + validation at most the 480 training rows of classification'],
    [{ colour: 'red' }, "config.colour = 'red' is not allowed: unknown field; known fields: dataset, model"],
  ])('%j -> %s', (partial, message) => {
    expect(() => resolveConfig(partial as never)).toThrow(ConfigError);
    expect(() => resolveConfig(partial as never)).toThrow(message);
  });

  it('committee, batchBald and stochastic batches: what is allowed', () => {
    expect(resolveConfig({ strategies: ['voteEntropy', 'consensusEntropy', 'maxDisagreement', 'random'], committee: 2, model: 'logreg', dataset: 'classification' }).committee).toBe(2);
    expect(resolveConfig({ stochastic: 'softmax', stochasticBeta: 0, strategies: ['margin', 'batchBald'] }).stochastic).toBe('softmax');
    expect(() => resolveConfig({ strategies: ['batchBald'], model: 'logreg', dataset: 'classification' })).toThrow('MC-dropout strategies need a model with dropout');
  });

  it('names the field on the error object', () => {
    try {
      resolveConfig({ rounds: -1 });
      expect.fail('should throw');
    } catch (e) {
      expect((e as ConfigError).field).toBe('rounds');
      expect((e as ConfigError).value).toBe(-1);
    }
  });
});
