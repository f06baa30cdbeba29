/**
 * The backends a shared suite runs on, per environment, and a hook that switches to one
 * and fails (never falls back) if it is not the active backend.
 */
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, expect, inject } from 'vitest';
import { useBackend, type BackendName } from '../../src/backend/index.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A project that runs the shared suites on other backends than its environment's default (vite.config.ts: the webgpu project). */
    testBackends?: BackendName[];
  }
}

export const IN_BROWSER = typeof window !== 'undefined' && typeof document !== 'undefined';

/**
 * Node: cpu and wasm. Chromium: real WebGL2 (SwiftShader here) and wasm. The webgpu project
 * (Chromium with SwiftShader's WebGPU adapter) provides ['webgpu'].
 */
export const TEST_BACKENDS: BackendName[] = inject('testBackends') ?? (IN_BROWSER ? ['webgl', 'wasm'] : ['cpu', 'wasm']);

/** Absolute tolerance against a float64 reference, per backend (webgl and webgpu run float32 shaders). */
export const TOLERANCE: Record<BackendName, number> = { cpu: 1e-5, wasm: 1e-5, webgl: 1e-4, webgpu: 1e-4 };

/** The GPU backends, where SwiftShader emulates the GPU here: property tests draw fewer cases there. */
export const isGpuBackend = (b: BackendName): boolean => b === 'webgl' || b === 'webgpu';

interface ErrorDevice {
  addEventListener(type: 'uncapturederror', listener: (e: Event & { error?: { message?: string } }) => void): void;
  queue: { onSubmittedWorkDone(): Promise<void> };
}

/** The active webgpu backend's device (null off webgpu). */
function webgpuDevice(): ErrorDevice | null {
  return tf.getBackend() === 'webgpu' ? ((tf.backend() as unknown as { device?: ErrorDevice }).device ?? null) : null;
}

/** WebGPU errors reported since the last check, per device listened to. */
const webgpuErrors: string[] = [];
const listened = new WeakSet<object>();

function listenForWebgpuErrors(): void {
  const device = webgpuDevice();
  if (!device || listened.has(device)) return;
  listened.add(device);
  device.addEventListener('uncapturederror', (e) => void webgpuErrors.push(e.error?.message ?? String(e)));
}

/**
 * In a describe block: switch to `name` before its tests and assert it is really active. On
 * webgpu, also fail any test during which the device reported an uncaptured error (a shader that
 * did not compile, an invalid dispatch): WebGPU drops the whole command buffer then, so the
 * results read back as zeros or stale values instead of throwing.
 */
export function onBackend(name: BackendName): void {
  beforeAll(async () => {
    await useBackend(name);
    expect(tf.getBackend()).toBe(name);
    if (name === 'webgpu') listenForWebgpuErrors();
  });
  if (name !== 'webgpu') return;
  afterEach(async () => {
    listenForWebgpuErrors(); // a test may have replaced the device (a fresh backend after a loss)
    await webgpuDevice()?.queue.onSubmittedWorkDone();
    const errors = webgpuErrors.splice(0);
    expect(errors, 'WebGPU reported errors during this test').toEqual([]);
  });
}
