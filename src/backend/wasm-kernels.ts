import { registerWasmConv2DBackpropFilter } from './wasm-conv2d-backprop-filter.ts';

/**
 * Kernels ActiveLab adds to the wasm backend. Idempotent: safe to call more than once.
 * - `Conv2DBackpropFilter` (missing in tfjs-backend-wasm 4.22; needed by `model.fit` of conv nets).
 */
export function registerWasmKernels(): void {
  registerWasmConv2DBackpropFilter();
}
