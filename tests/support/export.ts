/** For the model-export tests: the real learner, recording its final model's test probabilities as the engine exports it. */
import type { Dataset } from '../../datasets/index.ts';
import { batchTensor } from '../../datasets/index.ts';
import type { ExperimentConfig } from '../../src/engine/config.ts';
import { tfLearner, type LearnerFactory } from '../../src/engine/index.ts';

/**
 * `config`'s tfjs learner; when the engine asks a run's learner for its model, it first records
 * that model's probabilities on every test row (row-major [N, C]) in `reference`, keyed
 * `<strategy>#<repeat>`.
 */
export function recordingLearner(config: ExperimentConfig, ds: Dataset<string>): { learner: LearnerFactory; reference: Map<string, Float32Array> } {
  const real = tfLearner({ model: config.model, epochs: config.epochs, batchSize: config.batchSize, learningRate: config.learningRate, warmStart: config.warmStart, chunkSize: config.chunkSize });
  const testIdx = Int32Array.from({ length: ds.test.n }, (_, i) => i);
  const reference = new Map<string, Float32Array>();
  const learner: LearnerFactory = (ctx) => {
    const l = real(ctx);
    return {
      ...l,
      async exportModel(meta) {
        const x = batchTensor(ds.test, testIdx, { shape: ds.shape });
        const p = l.predictOn(x);
        x.dispose();
        reference.set(`${ctx.strategy}#${ctx.repeat}`, (await p.data()) as Float32Array);
        p.dispose();
        return l.exportModel!(meta);
      },
    };
  };
  return { learner, reference };
}
