/**
 * WebGPU (`@tensorflow/tfjs-backend-webgpu`): registered explicitly, never the default, and its
 * device watched for loss as a WebGL context is (`webgl-context.ts`).
 *
 * Importing tfjs-backend-webgpu registers it at priority 3 wherever `navigator.gpu` exists, which
 * makes it tfjs's default backend there. `registerWebgpu` puts it back at `WEBGPU_PRIORITY`, below
 * webgl and wasm (2): ActiveLab always names its backend (`useBackend`), and 'auto' measures
 * webgpu like the others (`src/app/host/calibrate.ts`). Where there is no `navigator.gpu` (Node,
 * about:blank, a browser without WebGPU) the package registers nothing and neither does this.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';
import type { WebgpuAdapterInfo } from './catalog.ts';
import { restartBackend } from './webgl-context.ts';
import { patchIntegerTranspose, type WebgpuBackendLike } from './webgpu-int-transpose.ts';

export type { WebgpuAdapterInfo };

/** Below webgl's and wasm's 2: never tfjs's default. */
export const WEBGPU_PRIORITY = 1;

interface DeviceLike {
  lost: Promise<{ reason?: string; message?: string }>;
  destroy(): void;
  adapterInfo?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> & { isFallbackAdapter?: boolean };
}

/**
 * Re-registers the webgpu factory (if the package registered one) at `WEBGPU_PRIORITY`, so that it
 * says what is missing where the browser has `navigator.gpu` but gives no adapter (no usable GPU;
 * Chromium does that without a GPU unless told to use SwiftShader's), instead of tfjs's TypeError,
 * and so that every backend it makes transposes int32 and bool tensors correctly
 * (`webgpu-int-transpose.ts`).
 */
export function registerWebgpu(): boolean {
  const factory = tf.findBackendFactory('webgpu');
  if (!factory) return false;
  tf.removeBackend('webgpu');
  tf.registerBackend('webgpu', async () => {
    if ((await probeAdapter()) === null) {
      throw new Error('the browser has WebGPU but gives no adapter here (no usable GPU; headless Chromium needs --enable-unsafe-webgpu --use-webgpu-adapter=swiftshader)');
    }
    const backend = await factory();
    // tfjs 4.22 compiles no integer transpose on WebGPU, silently (webgpu-int-transpose.ts).
    patchIntegerTranspose(backend as unknown as WebgpuBackendLike);
    return backend;
  }, WEBGPU_PRIORITY);
  return true;
}

/** Whether a webgpu backend is registered here (the browser exposes `navigator.gpu`). */
export function webgpuRegistered(): boolean {
  return tf.findBackendFactory('webgpu') !== null;
}

/** The active webgpu backend's device, or null when the active backend is not webgpu. */
function activeDevice(): DeviceLike | null {
  if (tf.getBackend() !== 'webgpu') return null;
  return (tf.backend() as unknown as { device?: DeviceLike }).device ?? null;
}

/** The adapter info of the active webgpu backend (null off webgpu, or where the browser gives none). */
export function activeAdapterInfo(): WebgpuAdapterInfo | null {
  const info = activeDevice()?.adapterInfo;
  return info ? adapterInfoOf(info) : null;
}

export function adapterInfoOf(info: NonNullable<DeviceLike['adapterInfo']>): WebgpuAdapterInfo {
  return {
    vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '',
    isFallbackAdapter: typeof info.isFallbackAdapter === 'boolean' ? info.isFallbackAdapter : null,
  };
}

/**
 * One line for the UI, results and the bench, as WebGL's renderer string is, e.g.
 * "google swiftshader (SwiftShader Device (Subzero)); fallback adapter".
 * @example adapterLabel({ vendor: 'google', architecture: 'swiftshader', device: '', description: '', isFallbackAdapter: true }) // 'google swiftshader; fallback adapter'
 */
export function adapterLabel(a: WebgpuAdapterInfo): string {
  const name = [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  const detail = [a.device, a.description].filter((s) => s && !name.includes(s));
  return `${name}${detail.length ? ` (${detail.join('; ')})` : ''}${a.isFallbackAdapter ? '; fallback adapter' : ''}`;
}

/**
 * The adapter a fresh request would get, as a label (null where there is none): part of the
 * calibration's cache key, without starting the backend.
 */
export async function probeAdapter(): Promise<string | null> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<{ info?: DeviceLike['adapterInfo']; isFallbackAdapter?: boolean } | null> } } | undefined)?.gpu;
  if (!gpu) return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info ?? {};
    return adapterLabel(adapterInfoOf({ ...info, ...(info.isFallbackAdapter === undefined && adapter.isFallbackAdapter !== undefined ? { isFallbackAdapter: adapter.isFallbackAdapter } : {}) }));
  } catch {
    return null;
  }
}

/** Devices seen lost (`device.lost` settled), so `webgpuDeviceLost` can answer synchronously. */
const lostDevices = new WeakSet<object>();
const tracked = new WeakSet<object>();

function track(device: DeviceLike): void {
  if (tracked.has(device)) return;
  tracked.add(device);
  void device.lost.then(() => void lostDevices.add(device));
}

/**
 * Calls `onLost` once when the active webgpu backend's device is lost (a GPU reset, a driver
 * update, `device.destroy()`); also if it already was. Returns the function that stops watching.
 * Does nothing off webgpu.
 */
export function watchDeviceLoss(onLost: () => void): () => void {
  const device = activeDevice();
  if (!device) return () => undefined;
  track(device);
  let live = true;
  void device.lost.then(() => {
    if (live) onLost();
  });
  return () => void (live = false);
}

/** Whether the active webgpu backend's device is known to be lost (false off webgpu). */
export function webgpuDeviceLost(): boolean {
  const device = activeDevice();
  return device !== null && lostDevices.has(device);
}

/**
 * Diagnostics and tests: destroys the active webgpu device, which loses it as a GPU reset would
 * (its `lost` promise settles with reason 'destroyed'; queued work is dropped). False off webgpu.
 */
export function loseWebgpuDevice(): boolean {
  const device = activeDevice();
  if (!device) return false;
  track(device);
  // Known lost at once: reads in flight reject (AbortError) before `device.lost` settles.
  lostDevices.add(device);
  device.destroy();
  return true;
}

/**
 * Replaces the webgpu backend with a fresh one (a new adapter and device) and makes it active
 * (`restartBackend`). Throws if it cannot start; the caller then picks another.
 */
export function freshWebgpuBackend(): Promise<void> {
  return restartBackend('webgpu', WEBGPU_PRIORITY, webgpuDeviceLost, 'a fresh WebGPU device');
}
