/**
 * conv2d geometries (NHWC x, HWIO filter, strides, padding) that the suites of both conv2d
 * gradient kernels, wasm Conv2DBackpropInput and Conv2DBackpropFilter, check besides their own.
 * A suite lists them in its own order: its seeded values follow a case's index in its list.
 */
import type { Shape4 } from './wasm-kernel-harness.ts';

/** tf.conv2d's padding, NHWC explicit pads included. */
export type ConvPad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

/** A conv2d geometry: x [batch, height, width, Cin], filter [height, width, Cin, Cout]. */
export interface ConvCase {
  name: string;
  x: Shape4;
  filter: Shape4;
  strides: number | [number, number];
  pad: ConvPad;
}

export const SHARED_CONV_CASES = {
  validStride1: { name: 'valid, stride 1, odd x even, non-square filter', x: [2, 7, 8, 3], filter: [3, 2, 3, 4], strides: 1, pad: 'valid' },
  sameStride1: { name: 'same, stride 1, odd size', x: [2, 7, 7, 3], filter: [3, 3, 3, 4], strides: 1, pad: 'same' },
  sameStride1EvenFilter: { name: 'same, stride 1, even filter (asymmetric pads)', x: [2, 6, 8, 2], filter: [2, 4, 2, 3], strides: 1, pad: 'same' },
  validStride2EvenSize: { name: 'valid, stride 2, even size (last row unread)', x: [3, 8, 8, 2], filter: [3, 3, 2, 5], strides: 2, pad: 'valid' },
  sameStride2EvenFilterHeight: { name: 'same, stride 2, odd size, even filter height', x: [2, 7, 9, 3], filter: [2, 3, 3, 4], strides: 2, pad: 'same' },
  validStrides21: { name: 'valid, strides [2, 1]', x: [2, 9, 6, 2], filter: [3, 2, 2, 3], strides: [2, 1], pad: 'valid' },
  explicitPadsStrides21: {
    name: 'explicit pads, strides [2, 1]',
    x: [2, 7, 8, 3],
    filter: [3, 2, 3, 4],
    strides: [2, 1],
    pad: [[0, 0], [1, 2], [0, 1], [0, 0]],
  },
  numericPad1Stride2: { name: 'numeric pad 1, stride 2', x: [2, 7, 8, 3], filter: [3, 3, 3, 4], strides: 2, pad: 1 },
  batch1Cin1Cout1: { name: 'batch 1, Cin 1, Cout 1', x: [1, 5, 5, 1], filter: [2, 2, 1, 1], strides: 1, pad: 'valid' },
} satisfies Record<string, ConvCase>;
