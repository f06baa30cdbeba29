/**
 * Compute backends: one place that picks, checks and reports the tfjs backend.
 *
 * Importing this module registers the cpu, webgl, wasm and (where the browser has WebGPU) webgpu
 * backends and ActiveLab's wasm kernels (see `wasm-kernels.ts`); webgpu below the others, so that
 * it never becomes tfjs's default by being imported (`webgpu.ts`). `useBackend` never falls back silently: if the
 * requested backend cannot start, it throws `BackendUnavailableError`. The names and the
 * `BackendInfo` shape are plain data in `catalog.ts`, which loads nothing.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { BACKEND_CATALOG, BACKEND_NAMES, isBackendName, type BackendInfo, type BackendName } from './catalog.ts';
import { registerWasmKernels } from './wasm-kernels.ts';
import { activeAdapterInfo, adapterLabel, registerWebgpu } from './webgpu.ts';

registerWasmKernels();
// tfjs-backend-webgpu (imported by webgpu.ts) made itself the default at priority 3: not here.
registerWebgpu();

export { BACKEND_CATALOG, BACKEND_NAMES, isBackendName };
export type { BackendInfo, BackendName };

/** Thrown when a requested backend cannot be initialised (no WebGL, wasm not loadable...). */
export class BackendUnavailableError extends Error {
  override readonly name = 'BackendUnavailableError';
  constructor(
    readonly backend: string,
    reason: string,
  ) {
    super(`backend '${backend}' is unavailable: ${reason}`);
  }
}

/**
 * Switch tfjs to `name` and wait until it is ready.
 *
 * @example
 *   await useBackend('wasm');   // tf.getBackend() === 'wasm', or it threw
 */
export async function useBackend(name: BackendName): Promise<void> {
  if (!isBackendName(name)) {
    throw new BackendUnavailableError(String(name), `unknown backend; known: ${BACKEND_NAMES.join(', ')}`);
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (err) {
    throw new BackendUnavailableError(name, err instanceof Error ? err.message : String(err));
  }
  if (!ok || tf.getBackend() !== name) {
    throw new BackendUnavailableError(name, `tfjs could not initialise it (active: ${tf.getBackend()})`);
  }
}

export function backendInfo(): BackendInfo {
  const backend = tf.getBackend();
  const info: BackendInfo = { backend, renderer: null, webglVersion: null, wasmSimd: null, wasmThreads: null };
  if (backend === 'webgl') {
    info.webglVersion = tf.env().getNumber('WEBGL_VERSION');
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
    if (gl) {
      const ext = gl.getExtension('WEBGL_debug_renderer_info');
      info.renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
    }
  } else if (backend === 'webgpu') {
    const adapter = activeAdapterInfo();
    info.adapter = adapter;
    info.renderer = adapter ? adapterLabel(adapter) : null;
  } else if (backend === 'wasm') {
    info.wasmSimd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    info.wasmThreads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  }
  return info;
}
