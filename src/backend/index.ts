/**
 * Compute backends: one place that picks, checks and reports the tfjs backend.
 *
 * Importing this module registers the cpu, webgl and wasm backends and ActiveLab's
 * wasm kernels (see `wasm-kernels.ts`). `useBackend` never falls back silently: if the
 * requested backend cannot start, it throws `BackendUnavailableError`.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernels } from './wasm-kernels.ts';

registerWasmKernels();

export const BACKEND_NAMES = ['webgl', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

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

export function isBackendName(name: string): name is BackendName {
  return (BACKEND_NAMES as readonly string[]).includes(name);
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

/** Plain facts about the active backend, for the UI, logs and benchmark records. */
export interface BackendInfo {
  backend: string;
  /** WebGL: the unmasked renderer string, e.g. "ANGLE (Google, Vulkan 1.3.0 (SwiftShader ...))". */
  renderer: string | null;
  webglVersion: number | null;
  wasmSimd: boolean | null;
  wasmThreads: boolean | null;
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
  } else if (backend === 'wasm') {
    info.wasmSimd = tf.env().getBool('WASM_HAS_SIMD_SUPPORT');
    info.wasmThreads = tf.env().getBool('WASM_HAS_MULTITHREAD_SUPPORT');
  }
  return info;
}
