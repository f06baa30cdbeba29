/**
 * A workaround for a tfjs-backend-webgpu 4.22 bug: its general `TransposeProgram` (any transpose
 * but a plain 2-D [1, 0]) writes `setOutputAtIndex(flatIndex, A[...])`, which takes an f32, so
 * for an int32 or bool input (an `array<i32>` buffer) the WGSL does not compile ("type mismatch
 * for argument 2 in call to 'setOutputAtIndex', expected 'f32', got 'i32'"; tfjs#8638, fix
 * proposed in tfjs#8616, both open). WebGPU reports that only as an uncaptured error, and the
 * command buffer holding the dispatch is invalid as a whole: it and every op batched with it (up
 * to WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE, 15) never run, and their outputs read back as zeros or as
 * a pooled buffer's old contents. tfjs transposes internally to reduce or arg-reduce over an
 * axis that is not the last one, so `tf.sum(int32 [T, N, C], 0)` (the vote counts of variation
 * ratio and vote entropy), `tf.all(bool, [0, 2])` (the committee's non-finite check) and
 * `tf.argMax(int32, 0)` hit it; small tensors still on the CPU are transposed there (tfjs's CPU
 * forwarding), which is why the same ops read back right on fresh inputs.
 *
 * The fix, per backend instance: a TransposeProgram whose input buffer is i32 writes through
 * `setOutputAtIndexI32`, which converts to the output's buffer type (exact for int32 and bool).
 * Float transposes are untouched. Where a later tfjs no longer emits that line, nothing changes.
 */

/** What this module needs of a tfjs `WebGPUProgram` (`webgpu_program.ts`). */
interface ProgramLike {
  shaderKey: string;
  variableNames: string[];
  getUserCode(): string;
  newDim?: number[];
}

/** What this module needs of tfjs's `WebGPUBackend`. */
export interface WebgpuBackendLike {
  runWebGPUProgram(program: ProgramLike, inputs: { dataId: object }[], ...rest: unknown[]): unknown;
  tensorMap: { get(dataId: object): { dtype: string } | undefined };
}

/** The line of `TransposeProgram.getUserCode` (tfjs-backend-webgpu 4.22) that is wrong for i32 input. */
const BROKEN_WRITE = 'setOutputAtIndex(flatIndex, A[';
const FIXED_WRITE = 'setOutputAtIndexI32(flatIndex, A[';

const patched = new WeakSet<object>();

/** Whether `program` is tfjs's general TransposeProgram (its shader key is `transpose_<perm>`). */
function isTransposeProgram(program: ProgramLike): boolean {
  return typeof program.shaderKey === 'string' && program.shaderKey.startsWith('transpose_') && Array.isArray(program.newDim) && program.variableNames.length === 1 && program.variableNames[0] === 'A';
}

/**
 * Rewrites one TransposeProgram instance for an i32 input buffer; returns whether it changed it.
 * @example fixIntegerTranspose(program) // true for tfjs 4.22's TransposeProgram
 */
export function fixIntegerTranspose(program: ProgramLike): boolean {
  const code = program.getUserCode();
  if (!code.includes(BROKEN_WRITE)) return false;
  program.getUserCode = () => code.replace(BROKEN_WRITE, FIXED_WRITE);
  // Its own pipeline-cache entry: the key already names the input types, this makes it explicit.
  program.shaderKey = program.shaderKey.replace(/^transpose_/, 'transposeI32_');
  return true;
}

/**
 * Makes `backend` (a tfjs WebGPUBackend) run every integer transpose through the fixed program.
 * Idempotent.
 */
export function patchIntegerTranspose(backend: WebgpuBackendLike): void {
  if (patched.has(backend)) return;
  patched.add(backend);
  const run = backend.runWebGPUProgram;
  backend.runWebGPUProgram = function (this: WebgpuBackendLike, program, inputs, ...rest) {
    if (isTransposeProgram(program) && inputs.length === 1) {
      const dtype = backend.tensorMap.get(inputs[0]!.dataId)?.dtype; // the buffer's type, not the tensor's label
      if (dtype === 'int32' || dtype === 'bool') fixIntegerTranspose(program);
    }
    return run.call(this, program, inputs, ...rest);
  };
}
