import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { backendInfo, BackendUnavailableError, useBackend } from '../../src/backend/index.ts';
import { IN_BROWSER, onBackend, TEST_BACKENDS } from '../support/backends.ts';

describe.each(TEST_BACKENDS)('backend %s', (name) => {
  onBackend(name);
  it('is the active backend and computes', async () => {
    expect(tf.getBackend()).toBe(name);
    const s = tf.tidy(() => tf.tensor1d([1, 2, 3]).sum());
    expect(await s.data()).toEqual(new Float32Array([6]));
    s.dispose();
    const info = backendInfo();
    expect(info.backend).toBe(name);
    if (name === 'webgl') {
      expect(info.webglVersion).toBe(2);
      expect(info.renderer).toBeTruthy();
    }
    if (name === 'webgpu') {
      // The adapter's info, as WebGL's renderer string is recorded (SwiftShader's here: a fallback adapter).
      expect(info.adapter).toBeTruthy();
      expect(info.adapter!.vendor + info.adapter!.architecture).not.toBe('');
      expect(info.renderer).toBeTruthy();
    }
    if (name === 'wasm') expect(info.wasmSimd).toBe(true);
  });
});

describe('useBackend', () => {
  it('throws a named error for an unknown backend', async () => {
    await expect(useBackend('tpu' as never)).rejects.toThrow(BackendUnavailableError);
    await expect(useBackend('tpu' as never)).rejects.toThrow(/backend 'tpu' is unavailable: unknown backend; known: webgl, webgpu, wasm, cpu/);
  });
  it.runIf(!IN_BROWSER)('refuses webgl and webgpu in Node rather than falling back', async () => {
    await expect(useBackend('webgl')).rejects.toThrow(/backend 'webgl' is unavailable/);
    await expect(useBackend('webgpu')).rejects.toThrow(/backend 'webgpu' is unavailable/);
  });
});
