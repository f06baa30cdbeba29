import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import {
  applyTemperature, CalibrationError, expectedCalibrationError, fitTemperature, negativeLogLikelihood,
} from '../../src/index.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend, TEST_BACKENDS, TOLERANCE } from '../support/backends.ts';

/** Float64 mean NLL of labels under softmax(z / T). */
function nllRef(z: number[][], y: number[], t: number): number {
  let s = 0;
  z.forEach((row, i) => {
    const m = Math.max(...row.map((v) => v / t));
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v / t - m), 0));
    s += lse - row[y[i]!]! / t;
  });
  return s / z.length;
}

/** Float64 reference fit: golden-section search on log T over [0.01, 100], to 1e-10. */
function fitRef(z: number[][], y: number[]): number {
  const f = (u: number) => nllRef(z, y, Math.exp(u));
  let a = Math.log(0.01), b = Math.log(100);
  const r = (Math.sqrt(5) - 1) / 2;
  while (b - a > 1e-10) {
    const c = b - r * (b - a), d = a + r * (b - a);
    if (f(c) < f(d)) b = d; else a = c;
  }
  return Math.exp((a + b) / 2);
}

/** Float64 ECE over equal-width bins (b/B, (b+1)/B]. */
function eceRef(p: number[][], y: number[], bins: number): number {
  const cnt = new Array<number>(bins).fill(0), acc = [...cnt], conf = [...cnt];
  p.forEach((row, i) => {
    const c = Math.max(...row);
    const pred = row.indexOf(c);
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    cnt[b]!++;
    conf[b]! += c;
    acc[b]! += pred === y[i] ? 1 : 0;
  });
  return cnt.reduce((s, n, b) => s + (n > 0 ? Math.abs(acc[b]! - conf[b]!) / p.length : 0), 0);
}

/**
 * Logits over-confident by construction: true logits z ~ 1.5 N(0, 1), labels drawn from
 * softmax(z), and the model reports `scale` * z.
 */
function overConfident(seed: number, n: number, c: number, scale: number) {
  const rng = new Rng(seed);
  const z = Array.from({ length: n }, () => Array.from({ length: c }, () => 1.5 * rng.normal()));
  const y = z.map((row) => {
    const e = row.map(Math.exp);
    const s = e.reduce((a, b) => a + b, 0);
    let u = rng.next() * s, j = 0;
    while (j < c - 1 && (u -= e[j]!) > 0) j++;
    return j;
  });
  const logits = z.map((row) => row.map((v) => Math.fround(v * scale)));
  return { logits, y };
}

describe.each(TEST_BACKENDS)('calibration on %s', (backend) => {
  onBackend(backend);
  const tol = TOLERANCE[backend];

  it('ECE matches a hand-computed example (5 bins)', async () => {
    // conf 0.95 correct, 0.85 wrong -> bin (0.8, 1]: acc 0.5, conf 0.9, weight 2/5 -> 0.16
    // conf 0.7 correct, 0.7 correct  -> bin (0.6, 0.8]: acc 1, conf 0.7, weight 2/5 -> 0.12
    // conf 0.55 wrong               -> bin (0.4, 0.6]: acc 0, conf 0.55, weight 1/5 -> 0.11
    const p = tf.tensor2d([[0.95, 0.05], [0.85, 0.15], [0.7, 0.3], [0.3, 0.7], [0.55, 0.45]]);
    const r = await expectedCalibrationError(p, Uint8Array.from([0, 1, 0, 1, 1]), { bins: 5 });
    expect(r.ece).toBeCloseTo(0.39, 5);
    expect(r.mce).toBeCloseTo(0.55, 5);
    expect(r.n).toBe(5);
    expect(r.bins.map((b) => b.count)).toEqual([0, 0, 1, 2, 2]);
    expect(r.bins[4]!.accuracy).toBeCloseTo(0.5, 6);
    expect(r.bins[4]!.confidence).toBeCloseTo(0.9, 6);
    expect(r.bins[3]).toMatchObject({ lower: 0.6, upper: 0.8, count: 2, accuracy: 1 });
    expect(r.bins[0]).toEqual({ lower: 0, upper: 0.2, count: 0, accuracy: 0, confidence: 0 });
    p.dispose();
  });

  it('ECE: 15 bins by default; matches a float64 reference on random probabilities; from logits too', async () => {
    const rng = new Rng(3);
    const z = Array.from({ length: 300 }, () => Array.from({ length: 4 }, () => 2 * rng.normal()));
    const probs = z.map((r) => {
      const e = r.map(Math.exp);
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => Math.fround(v / s));
    });
    const y = z.map(() => rng.int(4));
    // keep confidences away from bin edges, where float32 may round either way
    const ok = probs.map((r) => Math.abs(Math.max(...r) * 15 - Math.round(Math.max(...r) * 15)) > 1e-3);
    const P = probs.filter((_, i) => ok[i]), Y = y.filter((_, i) => ok[i]), Z = z.filter((_, i) => ok[i]);
    const pt = tf.tensor2d(P), zt = tf.tensor2d(Z);
    const r = await expectedCalibrationError(pt, Y);
    expect(r.bins.length).toBe(15);
    expect(r.ece).toBeCloseTo(eceRef(P, Y, 15), 4);
    expect(r.bins.reduce((s, b) => s + b.count, 0)).toBe(P.length);
    expect((await expectedCalibrationError(zt, Int32Array.from(Y), { fromLogits: true })).ece).toBeCloseTo(r.ece, 4);
    tf.dispose([pt, zt]);
  });

  it('a perfectly calibrated two-row example has ECE 0', async () => {
    const p = tf.tensor2d([[0.5, 0.5], [0.5, 0.5]]);
    expect((await expectedCalibrationError(p, [0, 1], { bins: 10 })).ece).toBeCloseTo(0, 6);
    p.dispose();
  });

  it('temperature scaling recovers T ≈ 5 on logits over-confident by 5, and lowers the validation NLL', async () => {
    const { logits, y } = overConfident(11, 1500, 4, 5);
    const tRef = fitRef(logits, y);
    expect(tRef).toBeGreaterThan(4.5);
    expect(tRef).toBeLessThan(5.5);
    const zt = tf.tensor2d(logits);
    const fit = await fitTemperature(zt, y, { fromLogits: true });
    expect(fit.converged).toBe(true);
    expect(fit.iterations).toBeLessThanOrEqual(20);
    expect(Math.abs(fit.temperature - tRef) / tRef).toBeLessThan(1e-3);
    expect(fit.nllBefore).toBeCloseTo(nllRef(logits, y, 1), 3);
    expect(fit.nllAfter).toBeCloseTo(nllRef(logits, y, tRef), 4);
    expect(fit.nllAfter).toBeLessThan(fit.nllBefore - 0.5);
    expect(await negativeLogLikelihood(zt, y, { fromLogits: true, temperature: fit.temperature })).toBeCloseTo(fit.nllAfter, 5);
    // Calibrated probabilities are better calibrated.
    const before = await expectedCalibrationError(zt, y, { fromLogits: true });
    const cal = applyTemperature(zt, fit.temperature, { fromLogits: true });
    const after = await expectedCalibrationError(cal, y);
    expect(after.ece).toBeLessThan(before.ece / 2);
    tf.dispose([zt, cal]);
  });

  it('fits the same T from probabilities as from logits', async () => {
    const { logits, y } = overConfident(12, 800, 3, 4);
    const zt = tf.tensor2d(logits);
    const pt = tf.softmax(zt) as tf.Tensor2D;
    const a = await fitTemperature(zt, y, { fromLogits: true });
    const b = await fitTemperature(pt, Int32Array.from(y));
    expect(Math.abs(a.temperature - b.temperature) / a.temperature).toBeLessThan(1e-3);
    tf.dispose([zt, pt]);
  });

  it('under-confident logits get T < 1; separable ones end at the lower bound', async () => {
    const { logits, y } = overConfident(13, 600, 3, 0.3);
    const zt = tf.tensor2d(logits);
    const fit = await fitTemperature(zt, y, { fromLogits: true });
    expect(fit.temperature).toBeLessThan(0.5);
    expect(Math.abs(fit.temperature - fitRef(logits, y)) / fit.temperature).toBeLessThan(1e-3);
    const sep = tf.tensor2d([[2, 0], [0, 2], [3, 1]]);
    const s = await fitTemperature(sep, [0, 1, 0], { fromLogits: true, bounds: [0.1, 10] });
    // The NLL keeps falling as T -> 0; it stops at the bound, or earlier where float32 sees p_y = 1 exactly.
    expect(s.temperature).toBeLessThan(0.15);
    expect(s.converged).toBe(true);
    expect(s.nllAfter).toBeLessThan(s.nllBefore);
    tf.dispose([zt, sep]);
  });

  it('applyTemperature: known values; T = 1 is the identity on probabilities', async () => {
    const z = tf.tensor2d([[2, 0], [0, 0]]);
    const a = applyTemperature(z, 2, { fromLogits: true });
    const e = Math.exp(1) / (Math.exp(1) + 1);
    expect(Array.from(await a.data()).every((v, i) => Math.abs(v - [e, 1 - e, 0.5, 0.5][i]!) < tol)).toBe(true);
    const p = tf.tensor2d([[0.7, 0.2, 0.1], [0, 0.5, 0.5]]);
    const same = applyTemperature(p, 1);
    const pv = await same.data();
    [0.7, 0.2, 0.1, 0, 0.5, 0.5].forEach((v, i) => expect(Math.abs(pv[i]! - v)).toBeLessThan(tol));
    const hot = applyTemperature(p, 0.5); // p^2 / sum p^2
    const hv = await hot.data();
    [0.49 / 0.54, 0.04 / 0.54, 0.01 / 0.54].forEach((v, i) => expect(Math.abs(hv[i]! - v)).toBeLessThan(tol));
    expect(await negativeLogLikelihood(tf.tensor2d([[0.25, 0.75]]), [1])).toBeCloseTo(-Math.log(0.75), 5);
    tf.dispose([z, a, p, same, hot]);
  });

  it('names bad labels, temperatures, bins and logits passed as probabilities', async () => {
    const p = tf.tensor2d([[0.5, 0.5], [0.9, 0.1]]);
    await expect(expectedCalibrationError(p, [0, 2])).rejects.toThrow('labels[1] = 2 is not a class in [0, 2)');
    await expect(expectedCalibrationError(p, [0])).rejects.toThrow('1 labels for 2 rows');
    await expect(expectedCalibrationError(p, [0, 1], { bins: 0 })).rejects.toThrow(CalibrationError);
    await expect(fitTemperature(p, tf.tensor1d([0, 1]))).rejects.toThrow('must be int32');
    expect(() => applyTemperature(p, 0)).toThrow('temperature must be a finite number > 0, got 0');
    const logits = tf.tensor2d([[-3, 2], [1, -1]]);
    await expect(fitTemperature(logits, [1, 0])).rejects.toThrow('pass {fromLogits: true}');
    tf.dispose([p, logits]);
  });

  it('every function leaks nothing and leaves the caller\'s tensors alive', async () => {
    const { logits, y } = overConfident(5, 50, 3, 3);
    const zt = tf.tensor2d(logits), yt = tf.tensor1d(y, 'int32');
    const pt = tf.softmax(zt) as tf.Tensor2D;
    await fitTemperature(zt, yt, { fromLogits: true }); // warm up
    await fitTemperature(pt, y);
    const before = tf.memory().numTensors;
    await fitTemperature(zt, yt, { fromLogits: true });
    await fitTemperature(pt, y);
    await expectedCalibrationError(pt, yt);
    await expectedCalibrationError(zt, y, { fromLogits: true });
    await negativeLogLikelihood(zt, y, { fromLogits: true, temperature: 2 });
    expect(tf.memory().numTensors).toBe(before);
    const a = applyTemperature(zt, 2, { fromLogits: true });
    expect(tf.memory().numTensors).toBe(before + 1);
    a.dispose();
    expect(zt.isDisposed || pt.isDisposed || yt.isDisposed).toBe(false);
    tf.dispose([zt, yt, pt]);
  });
});
