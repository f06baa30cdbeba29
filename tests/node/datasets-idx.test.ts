import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  DataFileError,
  encodeIdx,
  gunzip,
  idxFileSize,
  isGzip,
  parseIdx,
  readIdx,
  type DataFileName,
  type DataSource,
} from '../../datasets/index.ts';

/** A hand-made IDX file: magic 00 00 dtype ndims, big-endian dims, then `body` bytes as given. */
function idx(dtype: number, dims: number[], body: number[] | Uint8Array): Uint8Array {
  const header = [0, 0, dtype, dims.length];
  for (const d of dims) header.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
  return Uint8Array.from([...header, ...body]);
}

const errorOf = (fn: () => unknown): DataFileError => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataFileError);
    return err as DataFileError;
  }
  throw new Error('expected a DataFileError, nothing was thrown');
};

describe('parseIdx', () => {
  it('parses a good 3-D ubyte file (dims, data, zero-copy view)', () => {
    const bytes = idx(0x08, [2, 2, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255]);
    const a = parseIdx(bytes, 'tiny-images', { dtype: 'ubyte', dims: [null, 2, 3] });
    expect(a.dtype).toBe('ubyte');
    expect(a.dims).toEqual([2, 2, 3]);
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255]);
    expect(a.data.buffer).toBe(bytes.buffer);
    expect(a.data.byteOffset).toBe(16);
  });

  it('parses a good 1-D label file and large big-endian dims', () => {
    const a = parseIdx(idx(0x08, [3], [7, 2, 1]), 'labels', { ndims: 1 });
    expect(a.dims).toEqual([3]);
    expect(Array.from(a.data)).toEqual([7, 2, 1]);
    // 60000 = 0x0000ea60 must be read big-endian.
    const big = parseIdx(idx(0x08, [60000, 0], []), 'big');
    expect(big.dims).toEqual([60000, 0]);
  });

  it('decodes non-ubyte dtypes big-endian when no dtype is demanded', () => {
    const a = parseIdx(idx(0x0b, [2], [0x01, 0x02, 0xff, 0xfe]), 'shorts');
    expect(a.dtype).toBe('int16');
    expect(Array.from(a.data)).toEqual([0x0102, -2]);
    const f = parseIdx(idx(0x0d, [1], [0x3f, 0x80, 0, 0]), 'floats');
    expect(Array.from(f.data)).toEqual([1]);
  });

  it('rejects a wrong magic number, naming file, expected and found', () => {
    const e = errorOf(() => parseIdx(Uint8Array.from([1, 2, 8, 1, 0, 0, 0, 0]), 'train-labels-idx1-ubyte'));
    expect(e.file).toBe('train-labels-idx1-ubyte');
    expect(e.message).toBe(
      'train-labels-idx1-ubyte: bad magic number: expected 0x00 0x00 <dtype> <ndims>, found 0x01 0x02 0x08 0x01',
    );
  });

  it('says so when handed gzip bytes', () => {
    const e = errorOf(() => parseIdx(gzipSync(idx(0x08, [1], [1])), 'x.gz'));
    expect(e.message).toMatch(/^x\.gz: bad magic number: expected 0x00 0x00 <dtype> <ndims>, found 0x1f 0x8b .*gzip data/);
  });

  it('rejects an unknown dtype byte', () => {
    const e = errorOf(() => parseIdx(idx(0x07, [1], [1]), 'odd'));
    expect(e.message).toBe(
      'odd: bad magic number: expected a dtype byte in {0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e}, found 0x00 0x00 0x07 0x01',
    );
  });

  it('rejects a wrong dtype', () => {
    const e = errorOf(() => parseIdx(idx(0x0d, [1], [0, 0, 0, 0]), 'train-images-idx3-ubyte', { dtype: 'ubyte' }));
    expect(e.message).toBe('train-images-idx3-ubyte: wrong dtype: expected 0x08 (ubyte), found 0x0d (float32)');
  });

  it('rejects wrong ndims', () => {
    const e = errorOf(() => parseIdx(idx(0x08, [4], [1, 2, 3, 4]), 'train-images-idx3-ubyte', { dims: [null, 28, 28] }));
    expect(e.message).toBe('train-images-idx3-ubyte: wrong number of dimensions: expected 3, found 1');
    const e2 = errorOf(() => parseIdx(idx(0x08, [1, 1], [1]), 'labels', { ndims: 1 }));
    expect(e2.message).toBe('labels: wrong number of dimensions: expected 1, found 2');
  });

  it('rejects wrong dimensions', () => {
    const e = errorOf(() => parseIdx(idx(0x08, [1, 28, 27], new Uint8Array(28 * 27)), 'imgs', { dims: [null, 28, 28] }));
    expect(e.message).toBe('imgs: wrong dimensions: expected ?x28x28, found 1x28x27');
  });

  it('rejects a truncated file with the exact expected size', () => {
    const bytes = idx(0x08, [60000, 28, 28], new Uint8Array(1000 - 16));
    expect(bytes.length).toBe(1000);
    const e = errorOf(() => parseIdx(bytes, 'train-images-idx3-ubyte', { dtype: 'ubyte', dims: [60000, 28, 28] }));
    expect(e.message).toBe(
      'train-images-idx3-ubyte: truncated: expected 47040016 bytes (header 16 + 60000x28x28), found 1000',
    );
  });

  it('rejects a truncated header and a too-short file', () => {
    expect(errorOf(() => parseIdx(Uint8Array.from([0, 0]), 'f')).message).toBe(
      'f: truncated: expected at least 4 bytes (the IDX magic number), found 2',
    );
    expect(errorOf(() => parseIdx(Uint8Array.from([0, 0, 8, 3, 0, 0, 0, 1, 0, 0]), 'f')).message).toBe(
      'f: truncated: expected a header of 16 bytes (3 dimensions), found 10 bytes',
    );
  });

  it('rejects an oversized file', () => {
    const e = errorOf(() => parseIdx(idx(0x08, [3], [1, 2, 3, 4, 5]), 't10k-labels-idx1-ubyte'));
    expect(e.message).toBe(
      't10k-labels-idx1-ubyte: oversized: expected 11 bytes (header 8 + 3), found 13 (2 trailing bytes)',
    );
  });

  it('round-trips encodeIdx and knows the file size', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 10);
    const bytes = encodeIdx([2, 3, 4], data);
    expect(bytes.length).toBe(idxFileSize([2, 3, 4]));
    const a = parseIdx(bytes, 'rt', { dtype: 'ubyte', dims: [2, 3, 4] });
    expect(a.data).toEqual(data);
    expect(() => encodeIdx([2, 2], new Uint8Array(3))).toThrow(RangeError);
  });
});

describe('readIdx (DataSource + gzip)', () => {
  const name: DataFileName = 'mnist/t10k-labels-idx1-ubyte';
  const source = (bytes: Uint8Array): DataSource => ({ read: async () => bytes });

  it('reads plain and gzipped files through the same path', async () => {
    const plain = idx(0x08, [4], [9, 8, 7, 6]);
    const gz = new Uint8Array(gzipSync(plain));
    expect(isGzip(plain)).toBe(false);
    expect(isGzip(gz)).toBe(true);
    expect(await gunzip(gz)).toEqual(plain);
    for (const bytes of [plain, gz]) {
      const a = await readIdx(source(bytes), name, { dims: [4] });
      expect(Array.from(a.data)).toEqual([9, 8, 7, 6]);
    }
  });

  it('reports corrupt gzip and failing sources as DataFileError naming the file', async () => {
    const gz = new Uint8Array(gzipSync(idx(0x08, [4], [9, 8, 7, 6])));
    await expect(readIdx(source(gz.subarray(0, 12)), name)).rejects.toThrow(
      /^mnist\/t10k-labels-idx1-ubyte: gzip decompression failed/,
    );
    const failing: DataSource = { read: async () => { throw new Error('disk on fire'); } };
    await expect(readIdx(failing, name)).rejects.toThrow(DataFileError);
    await expect(readIdx(failing, name)).rejects.toThrow('mnist/t10k-labels-idx1-ubyte: could not be read: disk on fire');
  });
});
