/**
 * Float precision of the active backend, read correctly (tfjs 4.22 gets it wrong on WebGL).
 * Imports tfjs-core only: the measures use it without loading the backends.
 */
import * as tf from '@tensorflow/tfjs';

/**
 * The smallest probability whose log the measures and calibration take as it is: 1e-30 on a
 * float32 backend, else the backend's epsilon (1e-4 where WebGL stores float16 textures, where
 * 1e-30 would flush to 0). On WebGL this reads the texture flags itself: tfjs-backend-webgl
 * 4.22's `floatPrecision()` returns 16 whenever WEBGL_RENDER_FLOAT32_ENABLED is true, i.e. on
 * ordinary float32 WebGL2, which would floor at 1e-4 and distort tail log-probabilities (a
 * temperature fit on them was off by ~10% on the tests' data).
 */
export function logFloor(): number {
  if (tf.getBackend() === 'webgl') {
    const f32 = tf.env().getBool('WEBGL_RENDER_FLOAT32_ENABLED') && !tf.env().getBool('WEBGL_FORCE_F16_TEXTURES');
    return f32 ? 1e-30 : 1e-4;
  }
  const backend = tf.backend();
  return backend.floatPrecision() === 32 ? 1e-30 : backend.epsilon();
}
