import { registerWasmAdam } from './wasm-adam.ts';
import { registerWasmBatchMatMul } from './wasm-batch-matmul.ts';
import { registerWasmConv2DBackpropFilter } from './wasm-conv2d-backprop-filter.ts';
import { registerWasmConv2DBackpropInput } from './wasm-conv2d-backprop-input.ts';
import { registerWasmIdentity } from './wasm-identity.ts';
import { registerWasmMaxPoolGrad } from './wasm-maxpool-grad.ts';
import { registerWasmOneHot } from './wasm-one-hot.ts';
import { registerWasmSlice } from './wasm-slice.ts';
import { registerWasmSum } from './wasm-sum.ts';

/**
 * Kernels ActiveLab adds to the wasm backend. Idempotent: safe to call more than once.
 * - `Conv2DBackpropFilter` (missing in tfjs-backend-wasm 4.22; needed by `model.fit` of conv nets).
 * - `Conv2DBackpropInput` (replaces tfjs-backend-wasm's scalar loop, 2–10x faster; falls back to it).
 * - `MaxPoolGrad` (replaces tfjs-backend-wasm's, which drops the gradient of some pooling windows).
 * - `BatchMatMul` (transposes first when transposeA/B is set: the original is ~9x slower with them).
 * - `Sum` (over leading axes, e.g. bias gradients, without the original's transpose).
 * - `Identity` (shares the input's buffer, as cpu and webgl do, instead of copying it).
 * - `OneHot` (tfjs-backend-wasm's writes int32 bits into a float32 output).
 * - `Slice` (copies only the slice; tfjs-backend-wasm's copies its whole input first).
 * - `ActiveLabAdam` (new: one Adam update of one variable in wasm SIMD, for `FusedAdam`).
 */
export function registerWasmKernels(): void {
  registerWasmConv2DBackpropFilter();
  registerWasmConv2DBackpropInput();
  registerWasmMaxPoolGrad();
  registerWasmBatchMatMul();
  registerWasmSum();
  registerWasmIdentity();
  registerWasmOneHot();
  registerWasmSlice();
  registerWasmAdam();
}
