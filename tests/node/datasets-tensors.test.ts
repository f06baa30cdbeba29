import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { batchTensor, gatherRows, labelsOneHot, rowSize, type Split } from '../../datasets/index.ts';

// 4 "images" of 2x3 pixels; row i is filled with values 10*i .. 10*i+5; labels 3 1 0 2.
const images: Split = {
  x: Uint8Array.from({ length: 4 * 6 }, (_, k) => 10 * Math.floor(k / 6) + (k % 6)),
  y: Uint8Array.from([3, 1, 0, 2]),
  n: 4,
};
const points: Split = { x: Float32Array.from([0.5, -1, 2, 3, -4, 5.25]), y: Uint8Array.from([0, 1, 1]), n: 3 };

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

describe('batchTensor', () => {
  it('gathers uint8 rows scaled to [0, 1], shaped [k, ...shape]', async () => {
    const t = batchTensor(images, [2, 0], { shape: [2, 3, 1] });
    expect(t.dtype).toBe('float32');
    expect(t.shape).toEqual([2, 2, 3, 1]);
    const v = await t.data();
    t.dispose();
    const want = [20, 21, 22, 23, 24, 25, 0, 1, 2, 3, 4, 5].map((p) => p / 255);
    want.forEach((w, i) => expect(v[i]).toBeCloseTo(w, 6));
  });

  it('defaults to flat rows; float data is not scaled; Int32Array indices work', async () => {
    const t = batchTensor(points, Int32Array.from([1, 1, 2]));
    expect(t.shape).toEqual([3, 2]);
    expect(Array.from(await t.data())).toEqual([2, 3, 2, 3, -4, 5.25]);
    t.dispose();
    const e = batchTensor(points, []);
    expect(e.shape).toEqual([0, 2]);
    e.dispose();
  });

  it('rejects bad indices and shapes without allocating tensors', () => {
    const before = tf.memory().numTensors;
    expect(() => batchTensor(images, [4])).toThrow(/index 4 at position 0 is out of range 0..3/);
    expect(() => batchTensor(images, [0.5])).toThrow(RangeError);
    expect(() => batchTensor(images, [0], { shape: [5] })).toThrow(/shape \[5\] has 5 values, rows have 6/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('labelsOneHot', () => {
  it('one-hot encodes the selected labels', async () => {
    const t = labelsOneHot(images, [0, 3, 2], 4);
    expect(t.shape).toEqual([3, 4]);
    expect(await t.array()).toEqual([
      [0, 0, 0, 1],
      [0, 0, 1, 0],
      [1, 0, 0, 0],
    ]);
    t.dispose();
    expect(() => labelsOneHot(images, [0], 3)).toThrow(/label 3 of row 0 is not below numClasses 3/);
  });
});

describe('no tensor leaks', () => {
  it('numTensors returns to the start after disposing the results', () => {
    const start = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      const x = batchTensor(images, [0, 1, 2, 3], { shape: [2, 3, 1] });
      const y = labelsOneHot(images, [0, 1, 2, 3], 4);
      expect(tf.memory().numTensors).toBe(start + 2);
      x.dispose();
      y.dispose();
    }
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('gatherRows', () => {
  it('copies the selected rows into a new Split of the same type', () => {
    const s = gatherRows(images, [3, 3, 0]);
    expect(s.n).toBe(3);
    expect(s.x).toBeInstanceOf(Uint8Array);
    expect(Array.from(s.y)).toEqual([2, 2, 3]);
    expect(Array.from(s.x.subarray(0, 6))).toEqual([30, 31, 32, 33, 34, 35]);
    expect(Array.from(s.x.subarray(12, 18))).toEqual([0, 1, 2, 3, 4, 5]);
    expect(s.x.buffer).not.toBe(images.x.buffer);
    const p = gatherRows(points, [2]);
    expect(p.x).toBeInstanceOf(Float32Array);
    expect(Array.from(p.x)).toEqual([-4, 5.25]);
    expect(rowSize(p)).toBe(2);
    expect(() => gatherRows(points, [-1])).toThrow(RangeError);
  });
});
