/**
 * One Adam update of one variable as ONE wasm kernel (`ActiveLabAdam`), for `FusedAdam`
 * (`fused-adam.ts`). tfjs's `AdamOptimizer` runs 14 kernels per variable (16 more a step), each a
 * pass over the variable with its own dispatch, allocation and free; here one pass of wasm SIMD
 * (a 300-byte module built below, sharing tfjs-backend-wasm's memory) writes the new value and both
 * moments.
 *
 * Bit for bit what tfjs's composition gives on wasm: each operation is one float32 operation of
 * that composition, in its order, with the same float32 constants (f32x4 add, mul, div and sqrt
 * are IEEE float32 operations, as are wasm's float32 kernels; the tail of fewer than 4 elements,
 * and any backend where the module cannot be built, runs the same operations in JavaScript with
 * `Math.fround` after each, which gives the same float32 results):
 *
 *     m'  = m·β1 + g·(1−β1)                     v' = v·β2 + (g·g)·(1−β2)
 *     value' = value + (m' / (1 − β1ᵗ)) / (√(v' / (1 − β2ᵗ)) + ε) · (−lr)
 *
 * where β1ᵗ, β2ᵗ are the optimizer's `accBeta1`/`accBeta2` scalar variables (inputs, read from
 * the heap: no readback). tests/kernels/wasm-adam.test.ts checks equality with tfjs's Adam.
 *
 * Inputs: value, m, v, gradient (float32, one shape), accBeta1, accBeta2 (float32 scalars).
 * Attrs: beta1, beta2, epsilon, learningRate (numbers). Outputs: [value', m', v'] (new tensors;
 * the optimizer assigns them).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** The kernel's name (registered for wasm only: elsewhere `FusedAdam` is tfjs's Adam). */
export const ADAM_KERNEL = 'ActiveLabAdam';

/** The attrs `FusedAdam` sends. */
export interface AdamAttrs {
  beta1: number;
  beta2: number;
  epsilon: number;
  learningRate: number;
}

// ---------------------------------------------------------------------------------------------
// The SIMD module: adam(x, m, v, g, xOut, mOut, vOut, bytes, b1, c1, b2, c2, d1, d2, eps, step)
// over byte offsets in the imported memory, 4 floats at a time, `bytes` a multiple of 16.
// ---------------------------------------------------------------------------------------------

type AdamFn = (x: number, m: number, v: number, g: number, xo: number, mo: number, vo: number, bytes: number, ...k: number[]) => void;

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const name = (s: string) => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

/** The module's bytes; `shared`: import a shared memory (tfjs's threaded build) of at most 4 GiB. */
function adamModule(shared: boolean): Uint8Array<ArrayBuffer> {
  const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;
  const get = (i: number) => [0x20, i];
  const set = (i: number) => [0x21, i];
  const simd = (op: number) => [0xfd, ...uleb(op)];
  const load = [...simd(0x00), 0x04, 0x00]; // v128.load align=16 offset=0
  const store = [...simd(0x0b), 0x04, 0x00];
  const [splat, sqrt, add, mul, div] = [simd(0x13), simd(0xe3), simd(0xe4), simd(0xe6), simd(0xe7)];
  const at = (ptr: number) => [...get(ptr), ...get(I), 0x6a]; // ptr + i
  // Locals: params 0-15 (7 pointers, bytes, 8 constants), i, the 8 splatted constants, g, m', v'.
  const I = 16, K = 17, G = 25, M = 26, V = 27;
  const [B1, C1, B2, C2, D1, D2, EPS, STEP] = [K, K + 1, K + 2, K + 3, K + 4, K + 5, K + 6, K + 7];
  const body: number[] = [2, 1, I32, 11, V128]; // locals: 1 i32, 11 v128
  for (let k = 0; k < 8; k++) body.push(...get(8 + k), ...splat, ...set(K + k));
  body.push(0x41, 0x00, ...set(I));
  body.push(0x02, 0x40, 0x03, 0x40); // block, loop
  body.push(...get(I), ...get(7), 0x4f, 0x0d, 0x01); // if i >= bytes: break
  body.push(...at(3), ...load, ...set(G));
  body.push(...at(1), ...load, ...get(B1), ...mul, ...get(G), ...get(C1), ...mul, ...add, ...set(M)); // m·β1 + g·(1−β1)
  body.push(...at(2), ...load, ...get(B2), ...mul, ...get(G), ...get(G), ...mul, ...get(C2), ...mul, ...add, ...set(V)); // v·β2 + (g·g)·(1−β2)
  body.push(...at(5), ...get(M), ...store, ...at(6), ...get(V), ...store);
  body.push(...at(4)); // address of value'
  body.push(...get(M), ...get(D1), ...div); // m' / (1 − β1ᵗ)
  body.push(...get(V), ...get(D2), ...div, ...sqrt, ...get(EPS), ...add, ...div); // / (√(v' / (1 − β2ᵗ)) + ε)
  body.push(...get(STEP), ...mul, ...at(0), ...load, ...add, ...store); // · (−lr) + value
  body.push(...get(I), 0x41, 0x10, 0x6a, ...set(I), 0x0c, 0x00); // i += 16; continue
  body.push(0x0b, 0x0b, 0x0b); // end loop, end block, end function
  const limits = shared ? [0x03, 0x00, ...uleb(65536)] : [0x00, 0x00];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 16, ...Array<number>(8).fill(I32), ...Array<number>(8).fill(F32), 0]),
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, ...limits]),
    ...section(3, [1, 0]),
    ...section(7, [1, ...name('adam'), 0x00, 0]),
    ...section(10, [1, ...uleb(body.length), ...body]),
  ]);
}

/** The SIMD function for each wasm memory (null: it could not be built there). */
const built = new WeakMap<WebAssembly.Memory, AdamFn | null>();

function simdAdam(backend: BackendWasm): AdamFn | null {
  const memory = (backend as unknown as { wasm?: { asm?: { memory?: unknown }; wasmMemory?: unknown } }).wasm;
  const mem = memory?.asm?.memory ?? memory?.wasmMemory;
  if (!(mem instanceof WebAssembly.Memory)) return null;
  if (built.has(mem)) return built.get(mem)!;
  let fn: AdamFn | null = null;
  try {
    const shared = typeof SharedArrayBuffer !== 'undefined' && mem.buffer instanceof SharedArrayBuffer;
    const instance = new WebAssembly.Instance(new WebAssembly.Module(adamModule(shared)), { env: { memory: mem } });
    fn = instance.exports.adam as AdamFn;
  } catch {
    fn = null; // no wasm SIMD here, or a memory the module cannot import: the JavaScript loop
  }
  built.set(mem, fn);
  return fn;
}

/** Whether `ActiveLabAdam` runs its SIMD module on this wasm backend (else its JavaScript loop). */
export function wasmAdamUsesSimd(backend: BackendWasm): boolean {
  return simdAdam(backend) !== null;
}

// ---------------------------------------------------------------------------------------------

const f = Math.fround;

function adamWasm(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const backend = args.backend as BackendWasm;
  const { value, m, v, gradient, accBeta1, accBeta2 } = args.inputs;
  const { beta1, beta2, epsilon, learningRate } = (args.attrs ?? {}) as unknown as AdamAttrs;
  if (!value || !m || !v || !gradient || !accBeta1 || !accBeta2) throw new Error(`wasm ${ADAM_KERNEL}: needs value, m, v, gradient, accBeta1 and accBeta2`);
  for (const [key, t] of Object.entries({ value, m, v, gradient, accBeta1, accBeta2 })) {
    if (t.dtype !== 'float32') throw new Error(`wasm ${ADAM_KERNEL}: ${key} must be float32, got ${t.dtype}`);
  }
  for (const [key, t] of Object.entries({ m, v, gradient })) {
    if (!tf.util.arraysEqual(t.shape, value.shape)) throw new Error(`wasm ${ADAM_KERNEL}: ${key} has shape [${t.shape}], the variable [${value.shape}]`);
  }
  const n = tf.util.sizeFromShape(value.shape);
  const outValue = backend.makeOutput(value.shape, 'float32');
  const outM = backend.makeOutput(value.shape, 'float32');
  const outV = backend.makeOutput(value.shape, 'float32');
  // Views of the heap only after makeOutput, which may grow (and so detach) it.
  const x = backend.typedArrayFromHeap(value) as Float32Array;
  const m0 = backend.typedArrayFromHeap(m) as Float32Array;
  const v0 = backend.typedArrayFromHeap(v) as Float32Array;
  const g = backend.typedArrayFromHeap(gradient) as Float32Array;
  const x1 = backend.typedArrayFromHeap(outValue) as Float32Array;
  const m1 = backend.typedArrayFromHeap(outM) as Float32Array;
  const v1 = backend.typedArrayFromHeap(outV) as Float32Array;
  // The composition's float32 scalars: mul(m, β1), mul(g, 1 − β1) (1 − β1 in float64, then
  // float32), sub(1, accBeta1), add(·, ε), mul(·, −lr).
  const b1 = f(beta1);
  const c1 = f(1 - beta1);
  const b2 = f(beta2);
  const c2 = f(1 - beta2);
  const d1 = f(1 - (backend.typedArrayFromHeap(accBeta1) as Float32Array)[0]!);
  const d2 = f(1 - (backend.typedArrayFromHeap(accBeta2) as Float32Array)[0]!);
  const eps = f(epsilon);
  const step = f(-learningRate);
  const simd = simdAdam(backend);
  let from = 0;
  if (simd !== null) {
    from = n - (n % 4);
    simd(x.byteOffset, m0.byteOffset, v0.byteOffset, g.byteOffset, x1.byteOffset, m1.byteOffset, v1.byteOffset, from * 4, b1, c1, b2, c2, d1, d2, eps, step);
  }
  for (let i = from; i < n; i++) {
    const gi = g[i]!;
    const mi = f(f(m0[i]! * b1) + f(gi * c1));
    const vi = f(f(v0[i]! * b2) + f(f(gi * gi) * c2));
    m1[i] = mi;
    v1[i] = vi;
    const den = f(f(Math.sqrt(f(vi / d2))) + eps);
    x1[i] = f(f(f(f(mi / d1) / den) * step) + x[i]!);
  }
  return [outValue, outM, outV];
}

/** The kernel, for `tf.registerKernel`. */
export const wasmAdamConfig: tf.KernelConfig = { kernelName: ADAM_KERNEL, backendName: 'wasm', kernelFunc: adamWasm as unknown as tf.KernelFunc };

/** Registers `ActiveLabAdam` for wasm. Idempotent. @returns true if this call registered it. */
export function registerWasmAdam(): boolean {
  if (tf.getKernel(ADAM_KERNEL, 'wasm') !== undefined) return false;
  tf.registerKernel(wasmAdamConfig);
  return true;
}
