/**
 * Counters spliced into the active tfjs backend instance (Node and the page): bytes read back to
 * JS, bytes downloaded from the GPU, and WebGL programs compiled. Only the benchmark uses this;
 * `restore()` removes every wrapper.
 *
 * - Readback: the backend's `read` (data()) and `readSync` (dataSync()) are wrapped; nested calls
 *   (a slice read through a clone, wasm's `read` calling `readSync`) count once, at the outermost
 *   call. Reads made while a kernel runs are counted apart (`kernelReads`): wasm's Slice, Concat
 *   and GatherV2 copy their inputs through JS with `readSync` (memory to memory, no device
 *   involved), and WebGL's TopK hands large inputs to the CPU with a blocking `readSync`.
 * - GPU downloads (webgl): `gpgpu.downloadFloat32MatrixFromBuffer` (data() on WebGL2),
 *   `downloadMatrixFromPackedTexture` and `downloadByteEncodedFloatMatrixFromOutputTexture`
 *   (dataSync()), counted by the size of what they return.
 * - Programs (webgl): `gpgpu.createProgram` calls, and the entries of the backend's
 *   `binaryCache` (one compiled program per shader source and input-shape key).
 */
import * as tf from '@tensorflow/tfjs';

export interface ReadCounters {
  /** Outermost `read`/`readSync` calls on the backend made outside any kernel (data(), dataSync()). */
  reads: number;
  /** Bytes those calls returned to JS. */
  readBytes: number;
  /** The largest single such read (bytes). */
  maxReadBytes: number;
  /** Reads made by kernels while they run (wasm: input copies through JS; webgl: CPU hand-offs). */
  kernelReads: number;
  kernelReadBytes: number;
  /** webgl: texture/buffer downloads; 0 elsewhere. */
  gpuDownloads: number;
  /** webgl: bytes those downloads returned (padded texture sizes included). */
  gpuBytes: number;
  /** webgl: `gpgpu.createProgram` calls (shader programs compiled and linked). */
  programsCreated: number;
}

export interface Instrument {
  readonly backend: string;
  /** A copy of the counters so far. */
  snapshot(): ReadCounters;
  /** webgl: entries in the backend's binary (program) cache; null on other backends. */
  programsCached(): number | null;
  /** Removes the wrappers (idempotent). */
  restore(): void;
}

/** `b - a`, field by field, except `maxReadBytes`: b's (the largest read since the last `resetMax()`). */
export function diffCounters(a: ReadCounters, b: ReadCounters): ReadCounters {
  return {
    reads: b.reads - a.reads,
    readBytes: b.readBytes - a.readBytes,
    maxReadBytes: b.maxReadBytes,
    kernelReads: b.kernelReads - a.kernelReads,
    kernelReadBytes: b.kernelReadBytes - a.kernelReadBytes,
    gpuDownloads: b.gpuDownloads - a.gpuDownloads,
    gpuBytes: b.gpuBytes - a.gpuBytes,
    programsCreated: b.programsCreated - a.programsCreated,
  };
}

type AnyFn = (...args: unknown[]) => unknown;
type Patchable = Record<string, unknown>;

const bytesOf = (v: unknown): number => (ArrayBuffer.isView(v) ? v.byteLength : 0);

/**
 * Wraps the active backend. `maxReadBytes` in snapshots is the largest read since the last
 * `resetMax()`; call it at the start of each interval you want a maximum for.
 */
export function instrumentBackend(): Instrument & { resetMax(): void } {
  const name = tf.getBackend();
  const backend = tf.backend() as unknown as Patchable;
  const gpgpu = (name === 'webgl' ? (backend.gpgpu as Patchable | undefined) : undefined) ?? null;
  const c: ReadCounters = { reads: 0, readBytes: 0, maxReadBytes: 0, kernelReads: 0, kernelReadBytes: 0, gpuDownloads: 0, gpuBytes: 0, programsCreated: 0 };
  const engineState = (tf.engine() as unknown as { state: { kernelDepth: number } }).state;
  const undo: (() => void)[] = [];
  let depth = 0;

  const patch = (obj: Patchable, key: string, make: (orig: AnyFn) => AnyFn) => {
    const own = Object.prototype.hasOwnProperty.call(obj, key);
    const prev = obj[key];
    if (typeof prev !== 'function') return;
    obj[key] = make(prev as AnyFn);
    undo.push(() => {
      if (own) obj[key] = prev;
      else delete obj[key];
    });
  };
  const countRead = (v: unknown, inKernel: boolean) => {
    const b = bytesOf(v);
    if (inKernel) {
      c.kernelReads++;
      c.kernelReadBytes += b;
      return;
    }
    c.reads++;
    c.readBytes += b;
    if (b > c.maxReadBytes) c.maxReadBytes = b;
  };

  patch(backend, 'readSync', (orig) =>
    function (this: unknown, ...args: unknown[]) {
      if (depth > 0) return orig.apply(this, args);
      depth++;
      try {
        const inKernel = engineState.kernelDepth > 0;
        const v = orig.apply(this, args);
        countRead(v, inKernel);
        return v;
      } finally {
        depth--;
      }
    },
  );
  patch(backend, 'read', (orig) =>
    function (this: unknown, ...args: unknown[]) {
      if (depth > 0) return orig.apply(this, args);
      depth++;
      try {
        // Nested reads happen synchronously inside this call (before its first await).
        const inKernel = engineState.kernelDepth > 0;
        return Promise.resolve(orig.apply(this, args)).then((v) => {
          countRead(v, inKernel);
          return v;
        });
      } finally {
        depth--;
      }
    },
  );
  if (gpgpu) {
    for (const key of ['downloadFloat32MatrixFromBuffer', 'downloadMatrixFromPackedTexture', 'downloadByteEncodedFloatMatrixFromOutputTexture']) {
      patch(gpgpu, key, (orig) =>
        function (this: unknown, ...args: unknown[]) {
          const v = orig.apply(this, args);
          c.gpuDownloads++;
          c.gpuBytes += bytesOf(v);
          return v;
        },
      );
    }
    patch(gpgpu, 'createProgram', (orig) =>
      function (this: unknown, ...args: unknown[]) {
        c.programsCreated++;
        return orig.apply(this, args);
      },
    );
  }

  return {
    backend: name,
    snapshot: () => ({ ...c }),
    resetMax: () => {
      c.maxReadBytes = 0;
    },
    programsCached: () => {
      const cache = backend.binaryCache as Record<string, unknown> | undefined;
      return name === 'webgl' && cache ? Object.keys(cache).length : null;
    },
    restore: () => {
      while (undo.length) undo.pop()!();
    },
  };
}
