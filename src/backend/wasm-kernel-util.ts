/** Shared by ActiveLab's wasm kernels: calling another wasm kernel directly on the backend. */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Runs a kernel registered for wasm directly on the backend; the result is a bare TensorInfo the
 * caller frees with `backend.disposeData(out.dataId)`. `owner` names the calling kernel in errors.
 */
export function runWasmKernel(
  backend: BackendWasm,
  kernelName: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap,
  owner: string,
): tf.TensorInfo {
  const config = tf.getKernel(kernelName, 'wasm');
  if (config === undefined) throw new Error(`wasm ${owner}: the wasm backend has no '${kernelName}' kernel to build on`);
  const out = config.kernelFunc({ inputs, backend, attrs });
  if (Array.isArray(out)) throw new Error(`wasm ${owner}: '${kernelName}' returned ${out.length} outputs, expected 1`);
  return out;
}

/**
 * Replaces tfjs-backend-wasm's `config.kernelName` with `config`, keeping the original's
 * `setupFunc`/`disposeFunc` (they initialise its wasm binding, which a fallback may still call).
 * Idempotent, also across two copies of the calling module (a duplicated bundle chunk, HMR): the
 * replacement's kernelFunc is marked with a global symbol, and a kernel found already marked is
 * left alone. Does nothing if wasm has no such kernel yet (import '@tensorflow/tfjs-backend-wasm'
 * first: registering its own later would silently overwrite ours).
 *
 * @returns the original kernel if this call replaced it, else null.
 */
export function replaceWasmKernel(config: tf.KernelConfig): tf.KernelConfig | null {
  const mark = Symbol.for(`activelab.wasm.${config.kernelName}`);
  const marked = (f: tf.KernelFunc) => (f as unknown as Record<symbol, unknown>)[mark] === true;
  if (!marked(config.kernelFunc)) Object.defineProperty(config.kernelFunc, mark, { value: true });
  const current = tf.getKernel(config.kernelName, 'wasm');
  if (current === undefined || marked(current.kernelFunc)) return null;
  tf.unregisterKernel(config.kernelName, 'wasm');
  const replacement: tf.KernelConfig = { ...config, backendName: 'wasm' };
  if (current.setupFunc !== undefined) replacement.setupFunc = current.setupFunc;
  if (current.disposeFunc !== undefined) replacement.disposeFunc = current.disposeFunc;
  tf.registerKernel(replacement);
  return current;
}
