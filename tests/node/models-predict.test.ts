import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createModel, disposeModel } from '../../models/index.ts';
import { embed, evaluate, ModelStructureError, predictLogits, predictMcDropout, predictProbs, type InputBatch } from '../../models/predict.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend, TEST_BACKENDS, TOLERANCE } from '../support/backends.ts';

/** A fixed random pool of `n` inputs of `shape`; the provider records the row count of every call. */
function pool(n: number, shape: number[], seed: number) {
  const rng = new Rng(seed);
  const dim = shape.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n * dim }, () => rng.next());
  const calls: number[] = [];
  const batch: InputBatch = (idx) => {
    calls.push(idx.length);
    const x = new Float32Array(idx.length * dim);
    idx.forEach((j, r) => x.set(data.subarray(j * dim, (j + 1) * dim), r * dim));
    return tf.tensor(x, [idx.length, ...shape]);
  };
  /** All rows for `idx` in one tensor, bypassing the call log (for references). */
  const all = (idx: Int32Array) => {
    const x = batch(idx);
    calls.pop();
    return x;
  };
  return { batch, calls, all, data, dim };
}

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data());
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Counts tensors around `f` after one warm-up call; returns the difference. */
async function leaked(f: () => Promise<unknown> | unknown): Promise<number> {
  const dispose = (r: unknown) => { if (r instanceof tf.Tensor) r.dispose(); };
  dispose(await f());
  const before = tf.memory().numTensors;
  dispose(await f());
  return tf.memory().numTensors - before;
}

describe.each(TEST_BACKENDS)('predict on %s', (backend) => {
  onBackend(backend);
  const tol = TOLERANCE[backend];
  const C = 3;

  describe('predictProbs', () => {
    it('returns [N, C] rows summing to 1, equal to model.predict, for N not a multiple of chunkSize', async () => {
      const m = createModel('mlp', { inputShape: [6], numClasses: C, hidden: 8, rng: new Rng(1) });
      const p = pool(40, [6], 2);
      const idx = Int32Array.of(39, 0, 5, 5, 17, 22, 3, 8, 11, 30, 2, 1, 38); // 13 rows, shuffled, a duplicate
      const probs = predictProbs(m, p.batch, idx, { chunkSize: 5 });
      expect(probs.shape).toEqual([13, C]);
      expect(p.calls).toEqual([5, 5, 5]); // the last chunk (3 rows) was padded to 5
      const x = p.all(idx);
      const ref = m.predict(x) as tf.Tensor;
      expect(maxAbsDiff(await probs.data(), await ref.data())).toBeLessThan(tol);
      const sums = await values(tf.tidy(() => tf.sum(probs, 1)));
      for (const s of sums) expect(s).toBeCloseTo(1, 5);
      tf.dispose([probs, x, ref]);
      disposeModel(m);
    });

    it('pads a single short chunk and handles an empty index list', async () => {
      const m = createModel('logreg', { inputShape: [6], numClasses: C, rng: new Rng(1) });
      const p = pool(10, [6], 2);
      const probs = predictProbs(m, p.batch, Int32Array.of(4, 9), { chunkSize: 8 });
      expect(probs.shape).toEqual([2, C]);
      expect(p.calls).toEqual([8]);
      const empty = predictProbs(m, p.batch, new Int32Array(0));
      expect(empty.shape).toEqual([0, C]);
      expect(p.calls).toEqual([8]);
      tf.dispose([probs, empty]);
      disposeModel(m);
    });

    it('rejects a provider that returns the wrong number of rows, without leaking', async () => {
      const m = createModel('logreg', { inputShape: [6], numClasses: C, rng: new Rng(1) });
      const p = pool(10, [6], 2);
      const before = tf.memory().numTensors;
      expect(() => predictProbs(m, (idx) => p.batch(idx.subarray(1)), range(10), { chunkSize: 4 }))
        .toThrow(/batch\(indices\) returned 3 rows for 4 indices/);
      expect(() => predictProbs(m, p.batch, range(3), { chunkSize: 0 })).toThrow(/chunkSize must be a positive integer/);
      expect(tf.memory().numTensors).toBe(before);
      disposeModel(m);
    });
  });

  it('predictLogits: softmax(logits) equals predictProbs', async () => {
    const m = createModel('cnn', { inputShape: [8, 8, 1], numClasses: C, rng: new Rng(1) });
    const p = pool(11, [8, 8, 1], 3);
    const logits = predictLogits(m, p.batch, range(11), { chunkSize: 4 });
    const probs = predictProbs(m, p.batch, range(11), { chunkSize: 4 });
    expect(logits.shape).toEqual([11, C]);
    const sm = tf.softmax(logits);
    expect(maxAbsDiff(await sm.data(), await probs.data())).toBeLessThan(tol);
    tf.dispose([logits, probs, sm]);
    disposeModel(m);
  });

  describe('embed', () => {
    it('mlp: [N, hidden] equal to relu(x W + b) computed by hand', async () => {
      const m = createModel('mlp', { inputShape: [6], numClasses: C, hidden: 5, rng: new Rng(4) });
      const p = pool(9, [6], 5);
      const e = embed(m, p.batch, range(9), { chunkSize: 4 });
      expect(e.shape).toEqual([9, 5]);
      const [W, b] = m.getLayer('embedding').getWeights();
      const Wv = await W!.data(), bv = await b!.data();
      const got = await e.data();
      for (let i = 0; i < 9; i++) {
        for (let j = 0; j < 5; j++) {
          let z = bv[j]!;
          for (let k = 0; k < 6; k++) z += p.data[i * 6 + k]! * Wv[k * 5 + j]!;
          expect(got[i * 5 + j]).toBeCloseTo(Math.max(0, z), 5);
        }
      }
      e.dispose();
      disposeModel(m);
    });

    it('cnn: [N, 128]; logreg: the flattened input', async () => {
      const cnn = createModel('cnn', { inputShape: [8, 8, 1], numClasses: C, rng: new Rng(1) });
      const p = pool(7, [8, 8, 1], 6);
      const e = embed(cnn, p.batch, range(7), { chunkSize: 4 });
      expect(e.shape).toEqual([7, 128]);
      const lr = createModel('logreg', { inputShape: [8, 8, 1], numClasses: C, rng: new Rng(1) });
      const f = embed(lr, p.batch, Int32Array.of(6, 2), { chunkSize: 4 });
      expect(f.shape).toEqual([2, 64]);
      expect(Array.from(await f.data())).toEqual([...p.data.subarray(6 * 64, 7 * 64), ...p.data.subarray(2 * 64, 3 * 64)]);
      tf.dispose([e, f]);
      disposeModel(cnn);
      disposeModel(lr);
    });

    it('needs a Sequential model with an embedding layer', () => {
      const input = tf.input({ shape: [3] });
      const functional = tf.model({ inputs: input, outputs: tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor });
      expect(() => embed(functional, (i) => tf.zeros([i.length, 3]), range(2))).toThrow(ModelStructureError);
      const seq = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3], name: 'd' })] });
      expect(() => embed(seq, (i) => tf.zeros([i.length, 3]), range(2))).toThrow("embed: no layer named 'embedding'; layers: d");
      functional.dispose();
      seq.dispose();
    });
  });

  describe('predictMcDropout', () => {
    it('gives [T, N, C] softmax samples with a fresh mask per pass', async () => {
      const m = createModel('cnn', { inputShape: [8, 8, 1], numClasses: C, rng: new Rng(1) });
      const p = pool(10, [8, 8, 1], 7);
      const mc = predictMcDropout(m, p.batch, range(10), { samples: 4, rng: new Rng(3), chunkSize: 4 });
      expect(mc.shape).toEqual([4, 10, C]);
      expect(p.calls).toEqual([4, 4, 4]); // one input batch per chunk, shared by the T passes
      const v = await mc.data();
      const pass = (t: number) => v.subarray(t * 10 * C, (t + 1) * 10 * C);
      for (let t = 0; t < 4; t++) for (let u = t + 1; u < 4; u++) expect(maxAbsDiff(pass(t), pass(u))).toBeGreaterThan(1e-4);
      const sums = await values(tf.tidy(() => tf.sum(mc, 2)));
      for (const s of sums) expect(s).toBeCloseTo(1, 5);
      mc.dispose();
      disposeModel(m);
    });

    it('is reproducible: same rng seed -> identical samples; another seed -> different', async () => {
      const m = createModel('mlp', { inputShape: [6], numClasses: C, hidden: 16, rng: new Rng(1) });
      const p = pool(9, [6], 8);
      const run = (seed: number) => predictMcDropout(m, p.batch, range(9), { samples: 5, rng: new Rng(seed), chunkSize: 4 });
      const [a, b, c] = [run(11), run(11), run(12)];
      expect(Array.from(await a.data())).toEqual(Array.from(await b.data()));
      expect(Array.from(await a.data())).not.toEqual(Array.from(await c.data()));
      tf.dispose([a, b, c]);
      disposeModel(m);
    });

    it('advances the caller rng by one draw, whatever T and N', () => {
      const m = createModel('mlp', { inputShape: [6], numClasses: C, hidden: 4, rng: new Rng(1) });
      const p = pool(9, [6], 8);
      const r = new Rng(5), ref = new Rng(5);
      predictMcDropout(m, p.batch, range(9), { samples: 7, rng: r, chunkSize: 4 }).dispose();
      ref.uint32();
      expect(r.uint32()).toBe(ref.uint32());
      disposeModel(m);
    });

    it('averages to roughly the deterministic prediction for large T', async () => {
      const m = createModel('mlp', { inputShape: [6], numClasses: C, hidden: 64, dropout: 0.2, rng: new Rng(2) });
      const p = pool(8, [6], 9);
      const mc = predictMcDropout(m, p.batch, range(8), { samples: 400, rng: new Rng(1), chunkSize: 8 });
      const mean = tf.mean(mc, 0);
      const det = predictProbs(m, p.batch, range(8), { chunkSize: 8 });
      const d = maxAbsDiff(await mean.data(), await det.data());
      const spread = await values(tf.tidy(() => tf.max(tf.abs(tf.sub(mc, det)))));
      expect(d).toBeLessThan(0.03);
      expect(spread[0]).toBeGreaterThan(d * 2); // individual passes wander much further than the mean
      tf.dispose([mc, mean, det]);
      disposeModel(m);
    });

    it('dropout keeps about 1 - rate of the units, scaled by 1 / (1 - rate)', async () => {
      // A model whose output is its (positive) input through one dropout layer.
      const seq = tf.sequential({ layers: [tf.layers.dropout({ rate: 0.25, inputShape: [4000], name: 'drop' })] });
      const ones: InputBatch = (idx) => tf.ones([idx.length, 4000]);
      const mc = predictMcDropout(seq, ones, range(2), { samples: 2, rng: new Rng(1), chunkSize: 2 });
      const v = await mc.data();
      const kept = v.filter((x) => x !== 0);
      expect(kept.length / v.length).toBeGreaterThan(0.73);
      expect(kept.length / v.length).toBeLessThan(0.77);
      for (const x of kept) expect(x).toBeCloseTo(1 / 0.75, 5);
      mc.dispose();
      seq.dispose();
    });

    it('consistent: pass t drops the same units of every row, in every chunk (one ω per pass); passes differ; the default draws per row', async () => {
      const seq = tf.sequential({ layers: [tf.layers.dropout({ rate: 0.5, inputShape: [64], name: 'drop' })] });
      const ones: InputBatch = (idx) => tf.ones([idx.length, 64]);
      // 11 rows in chunks of 4: three chunks, the last one padded.
      const mc = predictMcDropout(seq, ones, range(11), { samples: 3, rng: new Rng(1), chunkSize: 4, consistent: true });
      const v = await mc.array() as number[][][];
      for (let t = 0; t < 3; t++) for (let i = 1; i < 11; i++) expect(v[t]![i]).toEqual(v[t]![0]);
      expect(v[0]![0]).not.toEqual(v[1]![0]);
      const dropped = v[0]![0]!.filter((x) => x === 0).length;
      expect(dropped).toBeGreaterThan(16);
      expect(dropped).toBeLessThan(48);
      const perRow = predictMcDropout(seq, ones, range(11), { samples: 3, rng: new Rng(1), chunkSize: 4 });
      const w = await perRow.array() as number[][][];
      expect(w[0]![1]).not.toEqual(w[0]![0]);
      // Channel dropout (noiseShape [batch, 1, 1, channels], as kirschCnn's) stays per channel, and shared by the rows.
      const channels = tf.sequential({
        layers: [tf.layers.dropout({ rate: 0.5, inputShape: [3, 3, 8], noiseShape: [null as unknown as number, 1, 1, 8], name: 'drop2d' }), tf.layers.flatten({ name: 'flat' })],
      });
      const img: InputBatch = (idx) => tf.ones([idx.length, 3, 3, 8]);
      const c = predictMcDropout(channels, img, range(5), { samples: 2, rng: new Rng(4), chunkSize: 2, consistent: true });
      const cv = await c.array() as number[][][];
      for (let t = 0; t < 2; t++) {
        for (let i = 1; i < 5; i++) expect(cv[t]![i]).toEqual(cv[t]![0]);
        const px = cv[t]![0]!; // 9 pixels x 8 channels, channels last
        for (let ch = 0; ch < 8; ch++) for (let q = 1; q < 9; q++) expect(px[q * 8 + ch]).toBe(px[ch]);
      }
      tf.dispose([mc, perRow, c]);
      seq.dispose();
      channels.dispose();
    });

    it('logits: true gives the same passes before the softmax (same masks): softmax of each equals the default output', async () => {
      const m = createModel('mlp', { inputShape: [6], numClasses: C, hidden: 16, rng: new Rng(1) });
      const p = pool(9, [6], 8);
      const probs = predictMcDropout(m, p.batch, range(9), { samples: 4, rng: new Rng(21), chunkSize: 4 });
      const logits = predictMcDropout(m, p.batch, range(9), { samples: 4, rng: new Rng(21), chunkSize: 4, logits: true });
      expect(logits.shape).toEqual([4, 9, C]);
      const back = tf.softmax(logits, -1);
      expect(maxAbsDiff(await back.data(), await probs.data())).toBeLessThan(1e-5);
      const sums = await values(tf.tidy(() => tf.sum(logits, 2)));
      expect(sums.some((x) => Math.abs(x - 1) > 1e-3)).toBe(true); // not probabilities
      tf.dispose([probs, logits, back]);
      // Without dropout: T copies of the single-pass logits.
      const lr = createModel('logreg', { inputShape: [6], numClasses: C, rng: new Rng(1) });
      const mc = predictMcDropout(lr, p.batch, range(5), { samples: 2, rng: new Rng(1), chunkSize: 4, logits: true });
      const det = predictLogits(lr, p.batch, range(5), { chunkSize: 4 });
      const tiled = tf.stack([det, det]);
      expect(maxAbsDiff(await mc.data(), await tiled.data())).toBeLessThan(tol);
      tf.dispose([mc, det, tiled]);
      disposeModel(m);
      disposeModel(lr);
    });

    it('a model without dropout gives T copies of predictProbs', async () => {
      const m = createModel('logreg', { inputShape: [6], numClasses: C, rng: new Rng(1) });
      const p = pool(5, [6], 10);
      const mc = predictMcDropout(m, p.batch, range(5), { samples: 3, rng: new Rng(1), chunkSize: 4 });
      const det = predictProbs(m, p.batch, range(5), { chunkSize: 4 });
      const tiled = tf.stack([det, det, det]);
      expect(maxAbsDiff(await mc.data(), await tiled.data())).toBeLessThan(tol);
      tf.dispose([mc, det, tiled]);
      disposeModel(m);
    });
  });

  describe('evaluate', () => {
    it('matches a hand computation (accuracy, clipped cross-entropy, confusion)', async () => {
      // logreg on 2-d inputs with weights set by hand: logits = x W + b.
      const m = createModel('logreg', { inputShape: [2], numClasses: 3, rng: new Rng(1) });
      const W = [[1, 0, -1], [0, 2, 1]], b = [0.1, -0.2, 0.3];
      m.getLayer('logits').setWeights([tf.tensor2d(W), tf.tensor1d(b)]);
      const X = [[1, 0], [0, 1], [2, 2], [-1, 0], [0, 20], [3, -1], [0.5, 0.5]];
      const labels = Uint8Array.of(0, 1, 2, 2, 0, 0, 1);
      // Reference in float64.
      let nll = 0, correct = 0;
      const confusion = new Array(9).fill(0);
      X.forEach(([x0, x1], i) => {
        const z = [0, 1, 2].map((c) => x0! * W[0]![c]! + x1! * W[1]![c]! + b[c]!);
        const mx = Math.max(...z), e = z.map((v) => Math.exp(v - mx)), s = e.reduce((a, v) => a + v, 0);
        const probs = e.map((v) => v / s);
        const pred = probs.indexOf(Math.max(...probs));
        nll -= Math.log(Math.min(1, Math.max(1e-7, probs[labels[i]!]!)));
        if (pred === labels[i]) correct++;
        confusion[labels[i]! * 3 + pred]++;
      });
      const batch: InputBatch = (idx) => tf.tensor2d(Array.from(idx, (j) => X[j]!));
      const r = await evaluate(m, batch, range(7), labels, { chunkSize: 3 });
      expect(r.n).toBe(7);
      expect(r.numClasses).toBe(3);
      expect(r.accuracy).toBeCloseTo(correct / 7, 6);
      expect(r.loss).toBeCloseTo(nll / 7, 4);
      expect(Array.from(r.confusion)).toEqual(confusion);
      // The row x = [0, 20] has p(class 0) ~ e^-40: clipped at 1e-7, it contributes -log(1e-7).
      expect(nll).toBeGreaterThan(-Math.log(1e-7) - 1e-9);
      expect(nll).toBeLessThan(-Math.log(1e-7) + 10);
      disposeModel(m);
    });

    it('checks labels against indices and classes', async () => {
      const m = createModel('logreg', { inputShape: [2], numClasses: 3, rng: new Rng(1) });
      const batch: InputBatch = (idx) => tf.zeros([idx.length, 2]);
      await expect(evaluate(m, batch, range(3), Uint8Array.of(0, 1))).rejects.toThrow(/labels.length \(2\) must equal indices.length \(3\)/);
      await expect(evaluate(m, batch, range(2), Uint8Array.of(0, 3))).rejects.toThrow(/labels\[1\] = 3 is not a class of a 3-class model/);
      await expect(evaluate(m, batch, new Int32Array(0), new Uint8Array(0))).rejects.toThrow(/no indices/);
      disposeModel(m);
    });
  });

  it('no function leaks tensors', async () => {
    const cnn = createModel('cnn', { inputShape: [8, 8, 1], numClasses: C, rng: new Rng(1) });
    const p = pool(13, [8, 8, 1], 12);
    const idx = range(13);
    const labels = Uint8Array.from(idx, (i) => i % C);
    const rng = new Rng(1);
    expect(await leaked(() => predictProbs(cnn, p.batch, idx, { chunkSize: 5 }))).toBe(0);
    expect(await leaked(() => predictLogits(cnn, p.batch, idx, { chunkSize: 5 }))).toBe(0);
    expect(await leaked(() => embed(cnn, p.batch, idx, { chunkSize: 5 }))).toBe(0);
    expect(await leaked(() => predictMcDropout(cnn, p.batch, idx, { samples: 3, rng, chunkSize: 5 }))).toBe(0);
    expect(await leaked(() => predictMcDropout(cnn, p.batch, idx, { samples: 2, rng, chunkSize: 32 }))).toBe(0); // one chunk
    expect(await leaked(() => predictMcDropout(cnn, p.batch, idx, { samples: 3, rng, chunkSize: 5, logits: true }))).toBe(0);
    expect(await leaked(() => predictMcDropout(cnn, p.batch, idx, { samples: 3, rng, chunkSize: 5, logits: true, consistent: true }))).toBe(0);
    expect(await leaked(() => evaluate(cnn, p.batch, idx, labels, { chunkSize: 5 }))).toBe(0);
    expect(await leaked(() => predictProbs(cnn, p.batch, new Int32Array(0)))).toBe(0);
    disposeModel(cnn);
  });
});
