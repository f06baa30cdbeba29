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
