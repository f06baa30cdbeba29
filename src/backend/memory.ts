/**
 * Peak tensor memory over a stretch of work. tfjs reports the current `tf.memory()` only (and a
 * peak only inside `tf.profile`, which also records every kernel call); this wraps the engine's
 * `trackTensor` (called for every tensor made) to keep the high-water marks of `numBytes` and
 * `numTensors`, including tensors that live only inside a `tf.tidy`.
 */
import * as tf from '@tensorflow/tfjs';

export interface PeakMemory {
  /** Highest `tf.memory().numBytes` seen (bytes of all live tensors, shared buffers counted per tensor). */
  peakBytes: number;
  peakTensors: number;
}

interface EngineInternals {
  trackTensor(a: unknown, backend: unknown): void;
  state: { numBytes: number; numTensors: number };
}

export interface PeakTracker {
  read(): PeakMemory;
  /** Restores the engine and returns the peaks. */
  stop(): PeakMemory;
}

/** Starts watching; call `stop()` when done (trackers may nest). */
export function trackPeakMemory(): PeakTracker {
  const engine = tf.engine() as unknown as EngineInternals;
  const original = engine.trackTensor;
  const peak: PeakMemory = { peakBytes: engine.state.numBytes, peakTensors: engine.state.numTensors };
  engine.trackTensor = function (this: EngineInternals, a: unknown, backend: unknown) {
    original.call(this, a, backend);
    if (this.state.numBytes > peak.peakBytes) peak.peakBytes = this.state.numBytes;
    if (this.state.numTensors > peak.peakTensors) peak.peakTensors = this.state.numTensors;
  };
  let stopped = false;
  return {
    read: () => ({ ...peak }),
    stop() {
      if (!stopped) {
        engine.trackTensor = original;
        stopped = true;
      }
      return { ...peak };
    },
  };
}
