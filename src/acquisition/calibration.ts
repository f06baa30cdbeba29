/**
 * Calibration: temperature scaling (Guo et al. 2017) and the expected calibration error.
 *
 * Softmax outputs of deep networks are often over-confident (seed 004's caution). Temperature
 * scaling divides the logits by one T > 0 fitted on held-out labels to minimise the negative
 * log-likelihood; it changes no argmax (so no accuracy) but makes the probabilities, and the
 * uncertainty scores built on them, honest. ECE measures the gap between confidence and
 * accuracy over equal-width confidence bins.
 *
 * Inputs follow the measures' convention: probabilities by default, logits with
 * `{fromLogits: true}`. From probabilities the logits are taken as log max(p, floor), with the
 * floor of src/backend/precision.ts (1e-30, or 1e-4 where WebGL stores float16 textures), which
 * softmax maps back to p, so T applies the same way (pass logits when you have them: they keep
 * the tail that float32 probabilities round away).
 *
 * Readback: `fitTemperature` reads 3 numbers per iteration, `expectedCalibrationError`
 * 3 x bins numbers, `negativeLogLikelihood` one. Memory: O(N C) on the backend.
 */
import * as tf from '@tensorflow/tfjs';
import { logFloor } from '../backend/precision.ts';
import { InvalidProbabilitiesError } from './errors.ts';
import { checkShape, type MeasureOptions } from './measures/_shared.ts';

/** Class labels of the N rows: integers in [0, C) (any typed array or number[], e.g. a dataset's Uint8Array), or an int32 [N] tensor. */
export type Labels = ArrayLike<number> | tf.Tensor1D;

/** Labels or a temperature that cannot be used as asked. */
export class CalibrationError extends Error {
  override readonly name = 'CalibrationError';
}

/** [N, C] logits: `x` itself, or log(max(p, floor)) for probabilities. Call inside a tidy. */
function logitsOf(x: tf.Tensor, fromLogits: boolean | undefined): tf.Tensor2D {
  return (fromLogits ? x : tf.log(tf.maximum(x, logFloor()))) as tf.Tensor2D;
}

/** An int32 [N] labels tensor the caller must dispose when `owned`. */
function labelsTensor(labels: Labels, n: number, c: number, what: string): { t: tf.Tensor1D; owned: boolean } {
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1 || labels.shape[0] !== n) {
      throw new CalibrationError(`${what}: labels have shape [${labels.shape.join(', ')}], expected [${n}] (one per row)`);
    }
    if (labels.dtype !== 'int32') throw new CalibrationError(`${what}: a labels tensor must be int32, got ${labels.dtype}`);
    return { t: labels, owned: false };
  }
  if (labels.length !== n) throw new CalibrationError(`${what}: ${labels.length} labels for ${n} rows`);
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= c) throw new CalibrationError(`${what}: labels[${i}] = ${y} is not a class in [0, ${c})`);
  }
  return { t: tf.tensor1d(Int32Array.from(labels), 'int32'), owned: true };
}

async function withLabels<T>(x: tf.Tensor, labels: Labels, what: string, f: (y: tf.Tensor1D) => Promise<T>): Promise<T> {
  checkShape(x, 2, what, 2);
  const { t, owned } = labelsTensor(labels, x.shape[0]!, x.shape[1]!, what);
  try {
    return await f(t);
  } finally {
    if (owned) t.dispose();
  }
}

function checkTemperature(t: number, what: string): void {
  if (!(t > 0) || !Number.isFinite(t)) throw new CalibrationError(`${what}: temperature must be a finite number > 0, got ${t}`);
}

/**
 * Calibrated probabilities softmax(z / T): [N, C] -> [N, C]; the caller owns the result.
 * T > 1 softens over-confident outputs, T < 1 sharpens; T = 1 returns softmax(z) (or p).
 *
 * @param x [N, C] probabilities (or logits with `{fromLogits: true}`)
 * @example
 *   applyTemperature(tf.tensor2d([[2, 0]]), 2, { fromLogits: true })  // softmax([1, 0]) = [[0.731, 0.269]]
 */
export function applyTemperature(x: tf.Tensor, temperature: number, options: MeasureOptions = {}): tf.Tensor2D {
  checkShape(x, 2, 'applyTemperature', 1);
  checkTemperature(temperature, 'applyTemperature');
  return tf.tidy(() => tf.softmax(tf.div(logitsOf(x, options.fromLogits), temperature), -1)) as tf.Tensor2D;
}

/**
 * Temperature-scales MC-dropout samples [T, N, C] of probabilities: each pass's row p becomes
 * softmax(log p / T), which equals softmax(z / T) for that pass's logits z (log p differs from z by
 * a per-row constant). Returns a new tensor; the caller keeps `samples`.
 */
export function applyTemperatureToSamples(samples: tf.Tensor, temperature: number): tf.Tensor3D {
  checkShape(samples, 3, 'applyTemperatureToSamples', 1);
  checkTemperature(temperature, 'applyTemperatureToSamples');
  const [t, n, c] = samples.shape as [number, number, number];
  return tf.tidy(() => applyTemperature(samples.reshape([t * n, c]), temperature).reshape([t, n, c]) as tf.Tensor3D);
}

/** [NLL, dNLL/ds, d2NLL/ds2] at inverse temperature s, as a [3] tensor. Call inside a tidy. */
function nllAndDerivatives(z: tf.Tensor2D, onehot: tf.Tensor2D, s: number): tf.Tensor1D {
  // With p = softmax(s z): NLL(s) = mean(logsumexp(s z) - s z_y), NLL' = mean(E_p[z] - z_y),
  // NLL'' = mean(Var_p[z]) >= 0: convex in s, so a safeguarded Newton iteration is enough.
  const logp = tf.logSoftmax(tf.mul(z, s), -1); // [N, C]
  const p = tf.exp(logp);
  const f = tf.neg(tf.mean(tf.sum(tf.mul(onehot, logp), 1)));
  const ez = tf.sum(tf.mul(p, z), 1, true); // [N, 1]
  const g = tf.mean(tf.sub(ez, tf.sum(tf.mul(onehot, z), 1, true)));
  const h = tf.mean(tf.sum(tf.mul(p, tf.square(tf.sub(z, ez))), 1));
  return tf.stack([f, g, h]) as tf.Tensor1D;
}

async function evaluate(z: tf.Tensor2D, onehot: tf.Tensor2D, s: number): Promise<[number, number, number]> {
  const t = tf.tidy(() => nllAndDerivatives(z, onehot, s));
  try {
    const v = await t.data();
    return [v[0]!, v[1]!, v[2]!];
  } finally {
    t.dispose();
  }
}

export interface NllOptions extends MeasureOptions {
  /** Temperature the logits are divided by. @default 1 */
  temperature?: number;
}

/**
 * Mean negative log-likelihood (nats) of the labels under softmax(z / T).
 * @example
 *   await negativeLogLikelihood(tf.tensor2d([[0.25, 0.75]]), [1])  // -log 0.75 = 0.2877
 */
export async function negativeLogLikelihood(x: tf.Tensor, labels: Labels, options: NllOptions = {}): Promise<number> {
  const t = options.temperature ?? 1;
  checkTemperature(t, 'negativeLogLikelihood');
  return withLabels(x, labels, 'negativeLogLikelihood', async (y) => {
    const r = tf.tidy(() => {
      const logp = tf.logSoftmax(tf.div(logitsOf(x, options.fromLogits), t), -1);
      return tf.neg(tf.mean(tf.sum(tf.mul(tf.oneHot(y, x.shape[1]!), logp), 1)));
    });
    try {
      return (await r.data())[0]!;
    } finally {
      r.dispose();
    }
  });
}

export interface FitTemperatureOptions extends MeasureOptions {
  /** Iteration cap (each reads back 3 numbers). @default 50 */
  maxIter?: number;
  /** Search interval for T; the fit ends at a bound if the optimum lies beyond it. @default [0.01, 100] */
  bounds?: readonly [number, number];
  /** Stop when a step changes 1/T by at most this fraction. @default 1e-5 */
  tol?: number;
}

export interface TemperatureFit {
  /** The fitted T > 0. */
  temperature: number;
  /** Mean NLL at T = 1 (the uncalibrated model). */
  nllBefore: number;
  /** Mean NLL at the fitted T: never above `nllBefore` up to float32 rounding. */
  nllAfter: number;
  iterations: number;
  /** Whether the step size fell under `tol` (or the gradient vanished) before `maxIter`. */
  converged: boolean;
}

/**
 * Fits the temperature T that minimises the mean NLL of `labels` under softmax(z / T), on
 * held-out (validation) rows, never the training rows. Deterministic: a Newton iteration on
 * s = 1/T, where the NLL is convex, safeguarded by a bracket [1/Tmax, 1/Tmin] that it bisects
 * (geometrically) whenever a Newton step would leave it. Starts at T = 1.
 *
 * @param x [N, C] probabilities (or logits with `{fromLogits: true}`)
 * @param labels N class labels in [0, C)
 * @example
 *   const fit = await fitTemperature(valLogits, valLabels, { fromLogits: true });
 *   const calibrated = applyTemperature(poolLogits, fit.temperature, { fromLogits: true });
 */
export async function fitTemperature(x: tf.Tensor, labels: Labels, options: FitTemperatureOptions = {}): Promise<TemperatureFit> {
  const maxIter = options.maxIter ?? 50;
  const tol = options.tol ?? 1e-5;
  const [tMin, tMax] = options.bounds ?? [0.01, 100];
  if (!Number.isInteger(maxIter) || maxIter < 1) throw new CalibrationError(`fitTemperature: maxIter must be a positive integer, got ${maxIter}`);
  checkTemperature(tMin, 'fitTemperature: bounds[0]');
  checkTemperature(tMax, 'fitTemperature: bounds[1]');
  if (!(tMin <= 1 && 1 <= tMax)) throw new CalibrationError(`fitTemperature: bounds [${tMin}, ${tMax}] must contain 1`);
  return withLabels(x, labels, 'fitTemperature', async (y) => {
    if (!options.fromLogits) {
      // Probabilities must lie in [0, 1]: logits passed without the flag would be silently floored.
      const range = tf.tidy(() => tf.stack([tf.min(x), tf.max(x)]));
      const [lo, hi] = await range.data().finally(() => range.dispose());
      if (!(lo! >= 0 && hi! <= 1 + 1e-3)) {
        throw new CalibrationError(`fitTemperature: probabilities must lie in [0, 1], got values in [${lo}, ${hi}] (are these logits? pass {fromLogits: true})`);
      }
    }
    // (from logits, z is the caller's x itself: never disposed here)
    const z = options.fromLogits ? (x as tf.Tensor2D) : tf.tidy(() => logitsOf(x, false));
    const onehot = tf.tidy(() => tf.cast(tf.oneHot(y, x.shape[1]!), 'float32')) as tf.Tensor2D;
    try {
      let lo = 1 / tMax, hi = 1 / tMin, s = 1;
      let [f, g, h] = await evaluate(z, onehot, s);
      if (!Number.isFinite(f) || !Number.isFinite(g)) {
        throw new CalibrationError(
          `fitTemperature: the NLL at T = 1 is ${f}${options.fromLogits ? '' : ' (are these logits? pass {fromLogits: true})'}`,
        );
      }
      const nllBefore = f;
      let iterations = 1;
      let converged = g === 0;
      while (!converged && iterations < maxIter) {
        if (g > 0) hi = s; else lo = s; // the minimum lies where g changes sign
        let next = h > 0 ? s - g / h : Number.NaN;
        if (!(next > lo && next < hi)) next = Math.sqrt(lo * hi);
        const step = Math.abs(next - s) / s;
        s = next;
        [f, g, h] = await evaluate(z, onehot, s);
        iterations++;
        if (step <= tol || g === 0 || hi / lo - 1 <= tol) converged = true;
      }
      return { temperature: 1 / s, nllBefore, nllAfter: f, iterations, converged };
    } finally {
      if (z !== x) z.dispose();
      onehot.dispose();
    }
  });
}

export interface EceOptions extends MeasureOptions {
  /** Number of equal-width confidence bins over [0, 1]. @default 15 */
  bins?: number;
}

/** One confidence bin of a reliability diagram. */
export interface ReliabilityBin {
  /** Bin b covers (lower, upper] = (b/B, (b+1)/B]; the first bin also holds confidence 0. */
  lower: number;
  upper: number;
  /** Rows whose confidence max_c p_c falls in the bin. */
  count: number;
  /** Fraction of them whose argmax is the label (0 for an empty bin). */
  accuracy: number;
  /** Their mean confidence (0 for an empty bin). */
  confidence: number;
}

export interface CalibrationReport {
  /** ECE = Σ_b |B_b|/N |acc_b - conf_b|. */
  ece: number;
  /** Maximum calibration error: the largest |acc_b - conf_b| over non-empty bins. */
  mce: number;
  /** Every bin, empty ones included, for a reliability diagram. */
  bins: ReliabilityBin[];
  /** Rows N. */
  n: number;
}

/**
 * Expected calibration error over `bins` equal-width confidence bins (Naeini et al. 2015;
 * Guo et al. 2017): confidence = max_c p_c, correct = (argmax p == label; ties to the lower
 * class on cpu/wasm). Bin sums are taken on the backend and 3 x bins numbers read back.
 * A confidence within float32 rounding of a bin edge may land on either side.
 *
 * @param x [N, C] probabilities (or logits with `{fromLogits: true}`)
 * @example
 *   const r = await expectedCalibrationError(tf.tensor2d([[0.9, 0.1], [0.6, 0.4]]), [0, 1], { bins: 10 });
 *   r.ece  // (|1 - 0.9| + |0 - 0.6|) / 2 = 0.35
 */
export async function expectedCalibrationError(x: tf.Tensor, labels: Labels, options: EceOptions = {}): Promise<CalibrationReport> {
  const nBins = options.bins ?? 15;
  if (!Number.isInteger(nBins) || nBins < 1) throw new CalibrationError(`expectedCalibrationError: bins must be a positive integer, got ${nBins}`);
  return withLabels(x, labels, 'expectedCalibrationError', async (y) => {
    const n = x.shape[0]!;
    const sums = tf.tidy(() => {
      const p = options.fromLogits ? tf.softmax(x, -1) : x;
      const conf = tf.max(p, 1); // [N]
      const correct = tf.cast(tf.equal(tf.argMax(p, 1), y), 'float32'); // [N]
      // bin = ceil(conf * B) - 1, clamped to [0, B - 1]: (b/B, (b+1)/B] -> b
      const bin = tf.cast(tf.clipByValue(tf.sub(tf.ceil(tf.mul(conf, nBins)), 1), 0, nBins - 1), 'int32');
      const oh = tf.oneHot(bin, nBins, 1, 0, 'float32'); // [N, B]
      const row = (v: tf.Tensor) => tf.reshape(tf.matMul(tf.reshape(v, [1, n]), oh), [nBins]); // [1, N] x [N, B] -> [B]
      return tf.stack([tf.sum(oh, 0), row(conf), row(correct)]); // [3, B]
    });
    let v: Float32Array;
    try {
      v = (await sums.data()) as Float32Array;
    } finally {
      sums.dispose();
    }
    const bins: ReliabilityBin[] = [];
    let ece = 0, mce = 0;
    for (let b = 0; b < nBins; b++) {
      const count = Math.round(v[b]!);
      const sumConf = v[nBins + b]!, sumAcc = v[2 * nBins + b]!;
      const accuracy = count > 0 ? sumAcc / count : 0;
      const confidence = count > 0 ? sumConf / count : 0;
      if (count > 0) {
        ece += Math.abs(sumAcc - sumConf) / n;
        mce = Math.max(mce, Math.abs(accuracy - confidence));
      }
      bins.push({ lower: b / nBins, upper: (b + 1) / nBins, count, accuracy, confidence });
    }
    return { ece, mce, bins, n };
  });
}
