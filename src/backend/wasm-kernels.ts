/** Kernels ActiveLab adds to the wasm backend. Filled in by the Conv2DBackpropFilter module. */
export function registerWasmKernels(): void {}
