/**
 * `FusedAdam`: tfjs's `AdamOptimizer` with one kernel per variable where the backend has one.
 *
 * tfjs's Adam (`tfjs-core/src/optimizers/adam_optimizer.ts`) updates each variable with 14
 * kernels (mul, mul, add, square, mul, mul, add, div, div, sqrt, add, div, mul, add), each a
 * pass over the variable with its own dispatch, allocation and free. On wasm, where ActiveLab
 * registers `ActiveLabAdam` (`wasm-adam.ts`), this class runs that one kernel per variable
 * instead, and assigns its three outputs (value, first and second moment) as tfjs assigns its
 * own; the results are bit for bit tfjs's. On every other backend it IS tfjs's Adam (`super`).
 *
 * The state (moments, `accBeta1`/`accBeta2`, iterations), `getWeights`/`setWeights`, `dispose`,
 * `getConfig` and the class name ('Adam') are the parent's, so saving and disposing behave as
 * for `tf.train.adam`.
 *
 * @example
 *   model.compile({ optimizer: new FusedAdam(1e-3), loss: 'categoricalCrossentropy' });
 */
import * as tf from '@tensorflow/tfjs';
import { ADAM_KERNEL, type AdamAttrs } from './wasm-adam.ts';

/** The parent's private state, as tfjs-core 4.22 names it (read, and created as it creates it). */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
}

export class FusedAdam extends tf.AdamOptimizer {
  /** Adam with tf.train.adam's defaults (beta1 0.9, beta2 0.999, the backend's epsilon). */
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon);
  }

  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (tf.getKernel(ADAM_KERNEL, tf.getBackend()) === undefined) {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    const attrs: AdamAttrs = { beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, learningRate: this.learningRate };
    const registered = tf.engine().registeredVariables;
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = registered[name];
        if (value === undefined) throw new Error(`FusedAdam: no variable named '${name}'`);
        // Moments created lazily, as the parent creates them (zeros, not trainable).
        state.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        state.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i]!.variable;
        const v = state.accumulatedSecondMoment[i]!.variable;
        const [newValue, newM, newV] = tf.engine().runKernel(
          ADAM_KERNEL,
          { value, m, v, gradient, accBeta1: state.accBeta1, accBeta2: state.accBeta2 } as unknown as tf.NamedTensorMap,
          attrs as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
        m.assign(newM!);
        v.assign(newV!);
        value.assign(newValue!);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}
