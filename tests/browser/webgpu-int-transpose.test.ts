/**
 * tfjs-backend-webgpu 4.22 compiles no general transpose of an int32 or bool tensor
 * (src/backend/webgpu-int-transpose.ts): the dispatch and every op batched with it were dropped
 * and read back zeros. With the workaround they compile and compute, and nothing queued with them
 * is lost. The webgpu project (SwiftShader's adapter here); onBackend fails a test on any WebGPU
 * error the device reports.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { fixIntegerTranspose } from '../../src/backend/webgpu-int-transpose.ts';
import { onBackend } from '../support/backends.ts';

/** [2, 3, 4] values 0..23 and their transposes by `perm`, computed here. */
const SHAPE = [2, 3, 4];
const VALUES = Array.from({ length: 24 }, (_, i) => i);
function transposed(perm: number[]): number[] {
  const out: number[] = [];
  const newShape = perm.map((p) => SHAPE[p]!);
  const strides = [12, 4, 1];
  for (let a = 0; a < newShape[0]!; a++) {
    for (let b = 0; b < newShape[1]!; b++) {
      for (let c = 0; c < newShape[2]!; c++) {
        const src = [0, 0, 0];
        src[perm[0]!] = a;
        src[perm[1]!] = b;
        src[perm[2]!] = c;
        out.push(VALUES[src[0]! * strides[0]! + src[1]! * strides[1]! + src[2]! * strides[2]!]!);
      }
    }
  }
  return out;
}

/** Runs `f` with tfjs's CPU forwarding off, so that small tensors are computed on the GPU. */
async function onGpu<T>(f: () => Promise<T>): Promise<T> {
  const before = tf.env().getBool('WEBGPU_CPU_FORWARD');
  tf.env().set('WEBGPU_CPU_FORWARD', false);
  try {
    return await f();
  } finally {
    tf.env().set('WEBGPU_CPU_FORWARD', before);
  }
}

describe('integer transposes on webgpu', () => {
  onBackend('webgpu');

  it('int32, bool and int32-cast-to-float32 tensors on the GPU transpose right, and a float op queued with them still runs', async () => {
    await onGpu(async () => {
      for (const perm of [[1, 2, 0], [1, 0, 2], [2, 0, 1], [0, 2, 1]]) {
        const x = tf.tensor3d(VALUES, SHAPE as [number, number, number], 'int32');
        const floats = tf.mul(tf.tensor1d([1, 2, 3]), 2); // queued in the same command buffer
        const t = tf.transpose(x, perm);
        const asFloat = tf.transpose(tf.cast(x, 'float32'), perm); // same i32 buffer, float32 label
        const isOdd = tf.transpose(tf.equal(tf.mod(x, 2), 1), perm); // bool
        expect(t.dtype).toBe('int32');
        expect(Array.from(await t.data())).toEqual(transposed(perm));
        expect(Array.from(await asFloat.data())).toEqual(transposed(perm));
        expect(Array.from(await isOdd.data())).toEqual(transposed(perm).map((v) => v % 2));
        expect(Array.from(await floats.data())).toEqual([2, 4, 6]);
        tf.dispose([x, floats, t, asFloat, isOdd]);
      }
    });
  });

  it('vote counts: a sum over axis 0 of one-hot argmaxes computed on the GPU (variation ratio, vote entropy)', async () => {
    // [T = 3, N = 2, C = 3]; votes row 0: 0, 1, 0; row 1: 0, 1, 2.
    const members = tf.tensor3d([[[0.7, 0.2, 0.1], [0.4, 0.3, 0.2]], [[0.2, 0.6, 0.2], [0.3, 0.5, 0.2]], [[0.6, 0.3, 0.1], [0.1, 0.2, 0.7]]]);
    const votes = tf.tidy(() => tf.sum(tf.oneHot(tf.argMax(members, -1), 3), 0));
    const finiteRows = tf.tidy(() => tf.all(tf.isFinite(members), [0, 2]));
    expect(Array.from(await votes.data())).toEqual([2, 1, 0, 1, 1, 1]);
    expect(Array.from(await finiteRows.data())).toEqual([1, 1]);
    tf.dispose([members, votes, finiteRows]);
  });

  it('leaves float transposes and programs that are not the broken shape alone', () => {
    const program = { shaderKey: 'transpose_1,0,2', variableNames: ['A'], newDim: [1, 0, 2], getUserCode: () => 'setOutputAtIndex(flatIndex, f32(A[0]));' };
    expect(fixIntegerTranspose(program)).toBe(false);
    expect(program.shaderKey).toBe('transpose_1,0,2');
  });
});
