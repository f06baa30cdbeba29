/**
 * MC dropout from logits on float16 WebGL textures (forced: WEBGL_RENDER_FLOAT32_CAPABLE false,
 * WEBGL_FORCE_F16_TEXTURES true, set before the backend starts). The loop hands the MC-dropout
 * strategies [T, N, C] logits, temperature-scaled as z / T; from probabilities, float16 would floor
 * a near-zero class at 1e-4 and, at T = 5, raise it to 1e-4^(1/5) = 0.16, pulling a confident
 * row's top probability (C = 10) from about 0.67 to about 0.41 and inflating its entropy.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../../src/backend/index.ts';
import { logFloor } from '../../src/backend/precision.ts';
import { applyTemperatureToSamples } from '../../src/acquisition/calibration.ts';
import { STRATEGIES, type ScoringStrategy } from '../../src/acquisition/strategies.ts';
import { Rng } from '../../src/rng.ts';

// T = 3 passes, N = 2 rows, C = 10 classes. Row 0 is confident (nine classes far below 1e-4 as
// probabilities); row 1 is uncertain.
const C = 10;
const LOGITS = [0, 1, 2].map((t) => [
  Array.from({ length: C }, (_, c) => (c === 0 ? 12 + 0.3 * t : c === 1 ? 0.2 * t : -3 - 0.1 * t)),
  Array.from({ length: C }, (_, c) => 0.1 * ((c * 7 + t * 3) % 5)),
]);
const TEMPERATURE = 5;

/** float64 softmax(z / T) of every pass, then predictive entropy and BALD per row. */
function reference(): { pe: number[]; bald: number[] } {
  const pe: number[] = [];
  const bald: number[] = [];
  for (let i = 0; i < LOGITS[0]!.length; i++) {
    const passes = LOGITS.map((pass) => {
      const z = pass[i]!.map((v) => v / TEMPERATURE);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    });
    const h = (p: number[]) => -p.reduce((a, v) => a + (v > 0 ? v * Math.log(v) : 0), 0);
    const mean = passes[0]!.map((_, c) => passes.reduce((a, p) => a + p[c]!, 0) / passes.length);
    pe.push(h(mean));
    bald.push(h(mean) - passes.reduce((a, p) => a + h(p), 0) / passes.length);
  }
  return { pe, bald };
}

async function scoreOf(name: 'predictiveEntropy' | 'bald', mcLogits: tf.Tensor3D): Promise<number[]> {
  const s = (STRATEGIES[name] as ScoringStrategy).score({ n: 2, mcLogits, rng: new Rng(1) });
  try {
    return Array.from(await s.data());
  } finally {
    s.dispose();
  }
}

describe('MC-dropout scores from logits on float16 textures', () => {
  beforeAll(async () => {
    tf.env().set('WEBGL_RENDER_FLOAT32_CAPABLE', false);
    tf.env().set('WEBGL_FORCE_F16_TEXTURES', true);
    await useBackend('webgl');
    expect(tf.getBackend()).toBe('webgl');
  });

  it('runs on float16 textures (the probability floor is 1e-4 here)', () => {
    expect(logFloor()).toBe(1e-4);
  });

  it('temperature-scaled MC logits give predictive entropy and BALD close to float64; probabilities floored at 1e-4 do not', async () => {
    const ref = reference();
    const before = tf.memory().numTensors;
    const z = tf.tensor3d(LOGITS);
    const scaled = tf.tidy(() => tf.div(z, TEMPERATURE) as tf.Tensor3D); // what the loop hands the strategies
    const pe = await scoreOf('predictiveEntropy', scaled);
    const bald = await scoreOf('bald', scaled);
    for (let i = 0; i < 2; i++) {
      expect(Math.abs(pe[i]! - ref.pe[i]!)).toBeLessThan(0.01);
      expect(Math.abs(bald[i]! - ref.bald[i]!)).toBeLessThan(0.01);
    }
    // The old path: softmax probabilities on float16 textures, then temperature-scaled from them.
    const probs = tf.tidy(() => tf.softmax(z, -1) as tf.Tensor3D);
    const fromProbs = applyTemperatureToSamples(probs, TEMPERATURE);
    const top = Array.from(await fromProbs.data())[0]!; // row 0, pass 0, class 0
    const peProbs = tf.tidy(() => {
      const mean = tf.mean(fromProbs, 0);
      return tf.neg(tf.sum(tf.mul(mean, tf.log(tf.maximum(mean, 1e-4))), -1));
    });
    const peOld = Array.from(await peProbs.data());
    expect(top).toBeLessThan(0.5); // float64: 0.67
    expect(peOld[0]! - ref.pe[0]!).toBeGreaterThan(0.2); // the confident row's entropy inflated
    tf.dispose([z, scaled, probs, fromProbs, peProbs]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
