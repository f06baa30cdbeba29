/**
 * WebGL context loss: the browser may take the GPU context away at any time (a GPU reset, a
 * driver update, too many contexts, a laptop switching GPUs). Every tensor on the webgl backend
 * is gone with it. These helpers notice the loss and give tfjs a fresh webgl backend, so a run
 * can continue from its last completed round (see src/app/host/engine-host.ts).
 */
import * as tf from '@tensorflow/tfjs';

interface WebglBackendLike {
  gpgpu?: { gl?: WebGLRenderingContext | WebGL2RenderingContext };
}

/** The active webgl backend's context, or null when the active backend is not webgl. */
function activeContext(): WebGLRenderingContext | WebGL2RenderingContext | null {
  if (tf.getBackend() !== 'webgl') return null;
  return (tf.backend() as unknown as WebglBackendLike).gpgpu?.gl ?? null;
}

/**
 * Calls `onLost` once if the active webgl backend's context is lost (it also reports a context
 * that is already lost). Returns the function that stops watching. Does nothing off webgl.
 */
export function watchContextLoss(onLost: () => void): () => void {
  const gl = activeContext();
  if (!gl) return () => undefined;
  const canvas = gl.canvas as EventTarget;
  let fired = false;
  const fire = () => {
    if (fired) return;
    fired = true;
    onLost();
  };
  canvas.addEventListener('webglcontextlost', fire);
  if (gl.isContextLost()) queueMicrotask(fire);
  return () => canvas.removeEventListener('webglcontextlost', fire);
}

/** Whether the active webgl backend's context is lost (false off webgl). */
export function webglContextLost(): boolean {
  return activeContext()?.isContextLost() ?? false;
}

/**
 * Diagnostics and tests: loses the active webgl context through the `WEBGL_lose_context`
 * extension, as a GPU reset would. Returns false if there is no webgl context or no extension.
 */
export function loseWebglContext(): boolean {
  const ext = activeContext()?.getExtension('WEBGL_lose_context');
  if (!ext) return false;
  ext.loseContext();
  return true;
}

/**
 * Replaces the webgl backend with a fresh one (a new context on a new canvas) and makes it the
 * active backend. The old backend's tensors are gone; its disposal errors are ignored (its
 * context is lost). Throws if the fresh backend cannot start; the caller then picks another.
 */
export async function freshWebglBackend(): Promise<void> {
  const factory = tf.findBackendFactory('webgl');
  if (!factory) throw new Error('no webgl backend is registered');
  // The registry entry for a backend holds its priority; re-register it the same way tfjs does.
  try {
    tf.removeBackend('webgl');
  } catch {
    // disposing a backend whose context is lost can throw; it is being dropped anyway
  }
  tf.registerBackend('webgl', factory, 2);
  const ok = await tf.setBackend('webgl');
  await tf.ready();
  if (!ok || tf.getBackend() !== 'webgl' || webglContextLost()) {
    throw new Error(`a fresh WebGL context could not start (active backend: ${tf.getBackend()})`);
  }
}
