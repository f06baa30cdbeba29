import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { trackPeakMemory } from '../../src/backend/memory.ts';
import { onBackend, TEST_BACKENDS } from '../support/backends.ts';

describe.each(TEST_BACKENDS)('trackPeakMemory on %s', (backend) => {
  onBackend(backend);

  it('sees the high-water mark of tensors that live only inside a tidy, and restores the engine', () => {
    const base = tf.memory();
    const tracker = trackPeakMemory();
    const s = tf.tidy(() => tf.sum(tf.mul(tf.ones([1000, 100]), 2))); // two 400 kB intermediates
    const peak = tracker.stop();
    expect(peak.peakBytes).toBeGreaterThanOrEqual(base.numBytes + 2 * 400_000);
    expect(peak.peakTensors).toBeGreaterThanOrEqual(base.numTensors + 2);
    s.dispose();
    expect(tf.memory().numBytes).toBe(base.numBytes);
    // After stop, new tensors no longer move the recorded peak.
    const big = tf.zeros([2000, 1000]);
    expect(tracker.read().peakBytes).toBe(peak.peakBytes);
    big.dispose();
  });
});
