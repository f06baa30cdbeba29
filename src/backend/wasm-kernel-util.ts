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

/** The parts of tfjs-backend-wasm 4.22's backend that {@link wasmView} relies on (not in its typings). */
interface WasmInternals {
  dataIdMap: {
    get(dataId: tf.DataId): { id: number; memoryOffset: number } | undefined;
    delete(dataId: tf.DataId): boolean;
  };
  wasm: { tfjs: { disposeData(id: number): void } };
}

/** True if `backend` has the internals {@link wasmView} needs (checked before taking a fast path). */
export function canViewWasmMemory(backend: BackendWasm): boolean {
  const b = backend as unknown as Partial<WasmInternals>;
  return (
    typeof b.dataIdMap?.get === 'function' &&
    typeof b.dataIdMap.delete === 'function' &&
    typeof b.wasm?.tfjs?.disposeData === 'function'
  );
}

/**
 * A float32 TensorInfo that views `sizeFromShape(shape)` elements of `base`'s wasm memory from
 * element `offset` on, without copying (e.g. one batch chunk of an NHWC tensor). It has its own
 * tensor id, so XNNPACK operators that tfjs-wasm caches per tensor id (Conv2D filters,
 * BatchMatMul's b) are keyed to the view, and released with it.
 *
 * It owns no memory: free it with {@link releaseWasmView}, NEVER `backend.disposeData` (which
 * would `free()` a pointer into `base`'s buffer), and before `base` is disposed. Check
 * {@link canViewWasmMemory} first.
 */
export function wasmView(backend: BackendWasm, base: tf.TensorInfo, offset: number, shape: number[]): tf.TensorInfo {
  if (base.dtype !== 'float32') throw new Error(`wasmView: float32 only, got ${base.dtype}`);
  const size = tf.util.sizeFromShape(shape);
  if (offset < 0 || offset + size > tf.util.sizeFromShape(base.shape)) {
    throw new Error(`wasmView: elements [${offset}, ${offset + size}) outside [${base.shape}]`);
  }
  const data = (backend as unknown as WasmInternals).dataIdMap.get(base.dataId);
  if (data === undefined) throw new Error('wasmView: base tensor is not on this wasm backend');
  return backend.makeOutput(shape, 'float32', data.memoryOffset + offset * 4);
}

/** Forgets a {@link wasmView}: its tensor id (and any XNNPACK operator cached for it), not the memory. */
export function releaseWasmView(backend: BackendWasm, view: tf.TensorInfo): void {
  const b = backend as unknown as WasmInternals;
  const data = b.dataIdMap.get(view.dataId);
  if (data === undefined) return;
  b.wasm.tfjs.disposeData(data.id);
  b.dataIdMap.delete(view.dataId);
}

/** One of ActiveLab's replacements for a tfjs-backend-wasm kernel, and the original it replaced. */
export interface WasmKernelReplacement {
  /** The kernel, for `tf.registerKernel` (registering it that way keeps no original to fall back to). */
  readonly config: tf.KernelConfig;
  /**
   * Replaces tfjs-backend-wasm's kernel with this one and keeps the original (see
   * `replaceWasmKernel`: idempotent, and a no-op until tfjs-backend-wasm has registered its own).
   * @returns true if this call registered it.
   */
  register(): boolean;
  /** The kernel ours replaced, once registered (the fallback; also for tests and benchmarks). */
  original(): tf.KernelConfig | undefined;
}

/** Declares a replacement for wasm's `kernelName`; every replacement kernel in `src/backend/` uses this. */
export function wasmKernelReplacement(kernelName: string, kernelFunc: tf.KernelFunc): WasmKernelReplacement {
  let original: tf.KernelConfig | undefined;
  const config: tf.KernelConfig = { kernelName, backendName: 'wasm', kernelFunc };
  return {
    config,
    register() {
      const previous = replaceWasmKernel(config);
      if (previous === null) return false;
      original = previous;
      return true;
    },
    original: () => original,
  };
}
