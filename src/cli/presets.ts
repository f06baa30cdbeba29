/** Named experiment setups for the CLI and the app. Flags given next to a preset override it. */
import type { ExperimentConfig } from '../engine/config.ts';

export interface Preset {
  description: string;
  config: Partial<ExperimentConfig>;
}

export const PRESETS = {
  /**
   * Gal, Islam & Ghahramani 2017, "Deep Bayesian Active Learning with Image Data", MNIST:
   * 20 balanced initial images, 10 per acquisition, 100 validation images, the CNN of
   * models/cnn with MC dropout. Deviations for a 2-core machine are listed in the README.
   */
  gal2017: {
    description: 'Gal et al. 2017 on MNIST: 20 balanced initial, 10 per round, 100 validation, the CNN, MC dropout (2-core deviations in the README)',
    config: {
      dataset: 'mnist',
      model: 'cnn',
      strategies: ['bald', 'entropy', 'random'],
      initial: 20,
      balanced: true,
      query: 10,
      validation: 100,
      rounds: 30,
      epochs: 30,
      batchSize: 32,
      poolSubset: 2000,
      mcSamples: 20,
      testSubset: null,
      target: 0.9,
    },
  },
  /**
   * Kirsch, van Amersfoort & Gal 2019, "BatchBALD", MNIST (their code, BlackHC/BatchBALD:
   * `laaos_results/paper/mnist_*_k100_b10_*`): 20 balanced initial images (2 per class), 10 per
   * acquisition, 1,024 validation images held out of the pool, the authors' BayesianNet
   * (models/kirschCnn), MC dropout. Deviations for a 2-core machine are listed in the README.
   */
  kirsch2019: {
    description: 'Kirsch et al. 2019 (BatchBALD) on MNIST: 20 balanced initial, 10 per round, 1,024 validation, their CNN, MC dropout (2-core deviations in the README)',
    config: {
      dataset: 'mnist',
      model: 'kirschCnn',
      strategies: ['batchBald', 'bald', 'random'],
      initial: 20,
      balanced: true,
      query: 10,
      validation: 1024,
      rounds: 27,
      epochs: 1,
      minSteps: 100,
      batchSize: 64,
      poolSubset: 500,
      mcSamples: 20,
      testSubset: null,
      target: 0.9,
    },
  },
} satisfies Record<string, Preset>;

export const PRESET_NAMES = Object.keys(PRESETS);
