/**
 * The GPU backends' losses in one place: a WebGL context (`webgl-context.ts`) and a WebGPU device
 * (`webgpu.ts`) are lost the same way for the app (a GPU reset, a driver update, too many pages
 * on the GPU), and recovered the same way: keep the completed rounds, start a fresh backend of the
 * same kind, continue (src/app/host/supervisor.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { GpuBackendName } from './catalog.ts';
import { freshWebglBackend, loseWebglContext, watchContextLoss, webglContextLost } from './webgl-context.ts';
import { freshWebgpuBackend, loseWebgpuDevice, watchDeviceLoss, webgpuDeviceLost } from './webgpu.ts';

/** The active backend if it computes on the GPU (so it can be lost), else null. */
export function activeGpuBackend(): GpuBackendName | null {
  const b = tf.getBackend();
  return b === 'webgl' || b === 'webgpu' ? b : null;
}

/** Calls `onLost` once when the active GPU backend's context or device is lost; returns the function that stops watching. */
export function watchGpuLoss(onLost: () => void): () => void {
  const b = activeGpuBackend();
  return b === 'webgl' ? watchContextLoss(onLost) : b === 'webgpu' ? watchDeviceLoss(onLost) : () => undefined;
}

/** Whether the active GPU backend's context or device is lost now (false off the GPU). */
export function gpuLost(): boolean {
  const b = activeGpuBackend();
  return b === 'webgl' ? webglContextLost() : b === 'webgpu' ? webgpuDeviceLost() : false;
}

/** Diagnostics and tests: loses the active GPU backend's context or device; returns which, or null off the GPU. */
export function loseGpu(): GpuBackendName | null {
  const b = activeGpuBackend();
  if (b === 'webgl') return loseWebglContext() ? b : null;
  if (b === 'webgpu') return loseWebgpuDevice() ? b : null;
  return null;
}

/** A fresh backend of the kind that was lost, made active; throws if it cannot start. */
export function freshGpuBackend(name: GpuBackendName): Promise<void> {
  return name === 'webgl' ? freshWebglBackend() : freshWebgpuBackend();
}
