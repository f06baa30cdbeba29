/**
 * ActiveLab's wasm `Identity` (src/backend/wasm-identity.ts: shares the input's buffer instead
 * of copying it). Runs in Node and in Chromium.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import '../../src/backend/index.ts';
import { originalWasmIdentity, registerWasmIdentity, wasmIdentityConfig } from '../../src/backend/wasm-identity.ts';
import { onBackend } from '../support/backends.ts';
import { seededValues } from '../support/seeded.ts';
import { leakCounts as counts } from '../support/wasm-kernel-harness.ts';

describe('wasm Identity', () => {
  onBackend('wasm');

  it("replaces tfjs-backend-wasm's kernel, and registering again is a no-op", () => {
    expect(tf.getKernel('Identity', 'wasm')?.kernelFunc).toBe(wasmIdentityConfig.kernelFunc);
    expect(originalWasmIdentity()).toBeDefined();
    expect(registerWasmIdentity()).toBe(false);
    expect(tf.getKernel('Identity', 'wasm')?.kernelFunc).toBe(wasmIdentityConfig.kernelFunc);
  });

  it('clones share the buffer, survive the original, and free it with the last one', async () => {
    const before = counts();
    const values = seededValues(24, 5);
    const a = tf.tensor(values, [2, 3, 4]);
    const b = a.clone();
    const c = tf.clone(b);
    expect(tf.backend().numDataIds()).toBe(before.buffers + 1); // one shared buffer
    expect(tf.memory().numTensors).toBe(before.numTensors + 3);
    a.dispose();
    expect(await b.data()).toEqual(values);
    b.dispose();
    expect(c.shape).toEqual([2, 3, 4]);
    expect(await c.data()).toEqual(values);
    expect(tf.backend().numDataIds()).toBe(before.buffers + 1);
    c.dispose();
    expect(counts()).toEqual(before);
  });

  it('a cloned conv filter keeps working after the original (and its cached XNNPACK operator) is disposed', async () => {
    const before = counts();
    const x = tf.tensor4d(seededValues(2 * 6 * 6 * 3, 6), [2, 6, 6, 3]);
    const f = tf.tensor4d(seededValues(3 * 3 * 3 * 4, 7), [3, 3, 3, 4]);
    const y1 = tf.conv2d(x, f, 1, 'valid');
    const expected = await y1.data();
    const g = f.clone();
    f.dispose();
    const y2 = tf.conv2d(x, g, 1, 'valid');
    expect(await y2.data()).toEqual(expected);
    g.dispose();
    const f2 = tf.tensor4d(seededValues(3 * 3 * 3 * 4, 8), [3, 3, 3, 4]);
    const y3 = tf.conv2d(x, f2, 1, 'valid');
    expect(await y3.data()).not.toEqual(expected);
    tf.dispose([x, y1, y2, y3, f2]);
    expect(counts()).toEqual(before);
  });

  it('int32, bool and string tensors clone correctly', async () => {
    const before = counts();
    const i = tf.tensor([1, -2, 3], [3], 'int32');
    const bl = tf.tensor([1, 0, 1], [3], 'bool');
    const s = tf.tensor(['a', 'bc'], [2], 'string');
    const [i2, bl2, s2] = [i.clone(), bl.clone(), s.clone()];
    tf.dispose([i, bl, s]);
    expect(Array.from(await i2.data())).toEqual([1, -2, 3]);
    expect(i2.dtype).toBe('int32');
    expect(Array.from(await bl2.data())).toEqual([1, 0, 1]);
    expect(await s2.data()).toEqual(['a', 'bc']);
    tf.dispose([i2, bl2, s2]);
    expect(counts()).toEqual(before);
  });

  it('gradients through saved (cloned) tensors are unchanged, and nothing leaks', async () => {
    const before = counts();
    const x = tf.tensor4d(seededValues(2 * 5 * 5 * 2, 9), [2, 5, 5, 2]);
    const f = tf.tensor4d(seededValues(2 * 2 * 2 * 3, 10), [2, 2, 2, 3]);
    const grad = tf.grads((xv: tf.Tensor, fv: tf.Tensor) => tf.relu(tf.conv2d(xv as tf.Tensor4D, fv as tf.Tensor4D, 1, 'valid')).maxPool(2, 2, 'valid').sum());
    const [gx, gf] = grad([x, f]);
    const gxv = await gx!.data();
    const gfv = await gf!.data();
    tf.dispose([gx!, gf!]);
    const [gx2, gf2] = grad([x, f]);
    expect(await gx2!.data()).toEqual(gxv);
    expect(await gf2!.data()).toEqual(gfv);
    tf.dispose([gx2!, gf2!, x, f]);
    expect(counts()).toEqual(before);
  });
});
