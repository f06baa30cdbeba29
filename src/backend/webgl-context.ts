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
 * Replaces the `name` backend with a fresh one from its registered factory (re-registered at
 * `priority`, as the registry entry holds it) and makes it active. The old backend's tensors are
 * gone; its disposal errors are ignored (its context or device is lost). Throws, with `what`, if
 * the fresh backend cannot start or is lost already; the caller then picks another.
 */
export async function restartBackend(name: string, priority: number, lost: () => boolean, what: string): Promise<void> {
  const factory = tf.findBackendFactory(name);
  if (!factory) throw new Error(`no ${name} backend is registered`);
  try {
    tf.removeBackend(name);
  } catch {
    // disposing a backend whose context or device is lost can throw; it is being dropped anyway
  }
  tf.registerBackend(name, factory, priority);
  const ok = await tf.setBackend(name);
  await tf.ready();
  if (!ok || tf.getBackend() !== name || lost()) {
    throw new Error(`${what} could not start (active backend: ${tf.getBackend()})`);
  }
}

/**
 * Replaces the webgl backend with a fresh one (a new context on a new canvas) and makes it the
 * active backend (priority 2, as tfjs registers it). Throws if it cannot start.
 */
export function freshWebglBackend(): Promise<void> {
  return restartBackend('webgl', 2, webglContextLost, 'a fresh WebGL context');
}
