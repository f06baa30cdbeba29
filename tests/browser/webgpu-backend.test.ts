/**
 * WebGPU in Chromium (the webgpu project: SwiftShader's adapter here): registered below webgl and
 * wasm, its adapter info reported, a lost device noticed and replaced by a fresh one.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { activeGpuBackend, freshGpuBackend, gpuLost, loseGpu, watchGpuLoss } from '../../src/backend/gpu-loss.ts';
import { backendInfo, useBackend } from '../../src/backend/index.ts';
import { WEBGPU_PRIORITY } from '../../src/backend/webgpu.ts';
import { onBackend } from '../support/backends.ts';

describe('webgpu backend', () => {
  onBackend('webgpu');
  afterAll(() => useBackend('wasm'));

  it('is registered below webgl and wasm, so importing it never makes it the default', () => {
    const registry = (tf.engine() as unknown as { registryFactory: Record<string, { priority: number }> }).registryFactory;
    expect(registry.webgpu!.priority).toBe(WEBGPU_PRIORITY);
    expect(registry.webgpu!.priority).toBeLessThan(registry.webgl!.priority);
    expect(registry.webgpu!.priority).toBeLessThan(registry.wasm!.priority);
  });

  it("reports the adapter's info as its renderer (SwiftShader's fallback adapter here)", () => {
    const info = backendInfo();
    expect(info.backend).toBe('webgpu');
    expect(info.adapter).not.toBeNull();
    expect(info.renderer).toContain(info.adapter!.vendor);
    if (info.adapter!.isFallbackAdapter) expect(info.renderer).toMatch(/fallback adapter$/);
  });

  it('a lost device is noticed (event and synchronous check), and a fresh device computes again', async () => {
    const x = tf.tensor1d([1, 2, 3]);
    expect(await x.sum().data()).toEqual(new Float32Array([6]));
    let fired = 0;
    const stop = watchGpuLoss(() => void fired++);
    expect(activeGpuBackend()).toBe('webgpu');
    expect(gpuLost()).toBe(false);
    expect(loseGpu()).toBe('webgpu');
    await expect.poll(() => fired, { timeout: 10_000 }).toBe(1);
    expect(gpuLost()).toBe(true);
    stop();
    await freshGpuBackend('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect(gpuLost()).toBe(false);
    const y = tf.tensor1d([4, 5, 6]);
    expect(await y.sum().data()).toEqual(new Float32Array([15]));
    y.dispose();
  });
});
