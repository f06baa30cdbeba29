import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { applyTemperature, applyTemperatureToSamples } from '../../src/index.ts';
import { onBackend, TEST_BACKENDS, TOLERANCE } from '../support/backends.ts';
import { seededValues } from '../support/seeded.ts';

describe.each(TEST_BACKENDS)('applyTemperatureToSamples on %s', (backend) => {
  onBackend(backend);

  it('scales every MC pass as if its logits were divided by T', async () => {
    const z = tf.tensor3d(Array.from(seededValues(3 * 5 * 4, 7), (v) => v * 4), [3, 5, 4]); // logits [T, N, C]
    const p = tf.softmax(z, -1) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const got = applyTemperatureToSamples(p, 2.5);
    expect(tf.memory().numTensors).toBe(before + 1);
    const want = applyTemperature(z.reshape([15, 4]), 2.5, { fromLogits: true });
    const [g, w] = [await got.data(), await want.data()];
    expect(got.shape).toEqual([3, 5, 4]);
    g.forEach((v, i) => expect(Math.abs(v - w[i]!)).toBeLessThan(TOLERANCE[backend] * 10));
    [z, p, got, want].forEach((t) => t.dispose());
  });

  it('rejects a bad temperature or shape by name', () => {
    const p = tf.fill([2, 2, 2], 0.5);
    const flat = tf.fill([2, 2], 0.5);
    expect(() => applyTemperatureToSamples(p, 0)).toThrow(/applyTemperatureToSamples/);
    expect(() => applyTemperatureToSamples(flat, 1)).toThrow(/applyTemperatureToSamples: expected a rank-3 tensor/);
    p.dispose();
    flat.dispose();
  });
});
