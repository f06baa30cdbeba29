/**
 * The backends a shared suite runs on, per environment, and a hook that switches to one
 * and fails (never falls back) if it is not the active backend.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, expect } from 'vitest';
import { useBackend, type BackendName } from '../../src/backend/index.ts';

export const IN_BROWSER = typeof window !== 'undefined' && typeof document !== 'undefined';

/** Node: cpu and wasm. Chromium: real WebGL2 (SwiftShader here) and wasm. */
export const TEST_BACKENDS: BackendName[] = IN_BROWSER ? ['webgl', 'wasm'] : ['cpu', 'wasm'];

/** Absolute tolerance against a float64 reference, per backend (webgl runs float32 shaders). */
export const TOLERANCE: Record<BackendName, number> = { cpu: 1e-5, wasm: 1e-5, webgl: 1e-4 };

/** In a describe block: switch to `name` before its tests and assert it is really active. */
export function onBackend(name: BackendName): void {
  beforeAll(async () => {
    await useBackend(name);
    expect(tf.getBackend()).toBe(name);
  });
}
