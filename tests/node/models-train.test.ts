import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { createModel, disposeModel, type ModelName } from '../../models/index.ts';
import { epochBatches, fitSeeded, TrainingError, type Batch, type EpochLog, type TrainingSet } from '../../models/train.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend, TEST_BACKENDS } from '../support/backends.ts';

// --- a small separable problem: C Gaussian blobs in D dimensions ------------------------------

interface Blobs { x: Float32Array; y: Uint8Array; n: number; dim: number; numClasses: number }

function blobs(n: number, dim: number, numClasses: number, seed: number, spread = 0.3): Blobs {
  const rng = new Rng(seed);
  const centers = Array.from({ length: numClasses }, () => Array.from({ length: dim }, () => 2 * rng.normal()));
  const x = new Float32Array(n * dim);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % numClasses;
    y[i] = c;
    for (let d = 0; d < dim; d++) x[i * dim + d] = centers[c]![d]! + spread * rng.normal();
  }
  return { x, y, n, dim, numClasses };
}

/** A batch provider over `data`, reshaping x to [B, ...shape]; records every call. */
function provider(data: Blobs, shape: number[] = [data.dim]) {
  const calls: Int32Array[] = [];
  const batch = (idx: Int32Array): Batch => {
    calls.push(idx.slice());
    const x = new Float32Array(idx.length * data.dim);
    const y = new Float32Array(idx.length * data.numClasses);
    idx.forEach((j, r) => {
      x.set(data.x.subarray(j * data.dim, (j + 1) * data.dim), r * data.dim);
      y[r * data.numClasses + data.y[j]!] = 1;
    });
    return { x: tf.tensor(x, [idx.length, ...shape]), y: tf.tensor2d(y, [idx.length, data.numClasses]) };
  };
  return { batch, calls };
}

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);

async function weightValues(model: tf.LayersModel): Promise<Float32Array[]> {
  return Promise.all(model.getWeights().map((w) => w.data() as Promise<Float32Array>));
}

// ----------------------------------------------------------------------------------------------

describe('epochBatches', () => {
  it('always gives batches of exactly batchSize rows, covering the labeled set', () => {
    const rng = new Rng(1);
    for (const [n, B] of [[1, 4], [3, 8], [8, 8], [9, 8], [20, 8], [100, 32], [130, 128]] as const) {
      const indices = Int32Array.from({ length: n }, (_, i) => 1000 + 3 * i);
      const batches = epochBatches(indices, B, rng);
      expect(batches).toHaveLength(Math.ceil(n / B));
      for (const b of batches) expect(b.length).toBe(B);
      const seen = new Set(batches.flatMap((b) => Array.from(b)));
      expect(seen).toEqual(new Set(indices)); // every labeled row, and nothing else
    }
  });

  it('repeats a small labeled set evenly to fill the batch', () => {
    const batches = epochBatches(Int32Array.of(5, 6, 7), 10, new Rng(2));
    expect(batches).toHaveLength(1);
    const counts = new Map<number, number>();
    for (const i of batches[0]!) counts.set(i, (counts.get(i) ?? 0) + 1);
    expect([...counts.values()].sort()).toEqual([3, 3, 4]);
  });

  it('fills the last partial batch with distinct labeled rows and keeps the first n as a permutation', () => {
    const n = 20, B = 8;
    const batches = epochBatches(range(n), B, new Rng(3));
    const flat = batches.flatMap((b) => Array.from(b));
    expect([...flat.slice(0, n)].sort((a, b) => a - b)).toEqual(Array.from(range(n)));
    const filler = flat.slice(n);
    expect(filler).toHaveLength(4);
    expect(new Set(filler).size).toBe(4);
  });

  it('is deterministic per seed and shuffles differently each epoch', () => {
    const a = epochBatches(range(50), 16, new Rng(4));
    const b = epochBatches(range(50), 16, new Rng(4));
    expect(a).toEqual(b);
    const rng = new Rng(4);
    expect(epochBatches(range(50), 16, rng)).not.toEqual(epochBatches(range(50), 16, rng));
  });

  it('rejects an empty labeled set and a bad batch size', () => {
    expect(() => epochBatches(new Int32Array(0), 4, new Rng(1))).toThrow(TrainingError);
    expect(() => epochBatches(range(3), 0, new Rng(1))).toThrow(/batchSize must be a positive integer, got 0/);
  });
});

describe.each(TEST_BACKENDS)('fitSeeded on %s', (backend) => {
  onBackend(backend);
  const data = blobs(60, 5, 3, 11);

  it.each(['logreg', 'mlp'] as ModelName[])('%s: lowers the loss and fits a separable problem', async (name) => {
    const model = createModel(name, { inputShape: [5], numClasses: 3, rng: new Rng(1), learningRate: 0.05 });
    const { batch } = provider(data);
    const logs: EpochLog[] = [];
    const { history } = await fitSeeded(model, { indices: range(60), batch }, {
      rng: new Rng(2), epochs: 15, batchSize: 16, onEpochEnd: (l) => { logs.push(l); },
    });
    expect(history).toEqual(logs);
    expect(history.map((h) => h.epoch)).toEqual(Array.from(range(15)));
    for (const h of history) {
      expect(typeof h.loss).toBe('number');
      expect(h.batches).toBe(4);
    }
    expect(history.at(-1)!.loss).toBeLessThan(history[0]!.loss * 0.5);
    expect(history.at(-1)!.acc).toBeGreaterThan(0.9);
    // The trained model separates the blobs at inference time too.
    const { batch: b2 } = provider(data);
    const { x, y } = b2(range(60));
    const acc = tf.tidy(() => tf.metrics.categoricalAccuracy(y, model.predict(x) as tf.Tensor).mean());
    expect((await acc.data())[0]).toBeGreaterThan(0.95);
    tf.dispose([x, y, acc]);
    disposeModel(model);
  });

  it('is deterministic: same seeds -> identical weights; another fit seed -> different', async () => {
    const run = async (fitSeed: number) => {
      const model = createModel('mlp', { inputShape: [5], numClasses: 3, hidden: 16, rng: new Rng(1) });
      const { history } = await fitSeeded(model, { indices: range(60).subarray(0, 45), batch: provider(data).batch }, {
        rng: new Rng(fitSeed), epochs: 3, batchSize: 8,
      });
      const w = await weightValues(model);
      disposeModel(model);
      return { w, losses: history.map((h) => h.loss) };
    };
    const a = await run(7), b = await run(7), c = await run(8);
    expect(a.losses).toEqual(b.losses);
    expect(a.w).toEqual(b.w);
    expect(c.w[0]).not.toEqual(a.w[0]);
  });

  it('passes exactly batchSize rows to every step, however the labeled set grows', async () => {
    const model = createModel('mlp', { inputShape: [5], numClasses: 3, hidden: 8, rng: new Rng(1) });
    const { batch, calls } = provider(data);
    const B = 16;
    for (const n of [3, 16, 17, 40, 60]) {
      calls.length = 0;
      await fitSeeded(model, { indices: range(n), batch }, { rng: new Rng(n), epochs: 2, batchSize: B });
      expect(calls).toHaveLength(2 * Math.ceil(n / B));
      for (const idx of calls) {
        expect(idx.length).toBe(B);
        for (const i of idx) expect(i).toBeLessThan(n);
      }
    }
    disposeModel(model);
  });

  it('leaks no tensors (after the optimizer state exists) and reads back once per epoch', async () => {
    const model = createModel('mlp', { inputShape: [5], numClasses: 3, hidden: 8, rng: new Rng(1) });
    const set: TrainingSet = { indices: range(30), batch: provider(data).batch };
    await fitSeeded(model, set, { rng: new Rng(1), epochs: 1, batchSize: 8 }); // creates Adam moments
    const before = tf.memory().numTensors;
    const proto = tf.Tensor.prototype;
    const origData = proto.data, origDataSync = proto.dataSync, origArraySync = proto.arraySync;
    let reads = 0, syncReads = 0;
    proto.data = function (this: tf.Tensor) { reads++; return origData.call(this); } as typeof origData;
    proto.dataSync = function (this: tf.Tensor) { syncReads++; return origDataSync.call(this); } as typeof origDataSync;
    proto.arraySync = function (this: tf.Tensor) { syncReads++; return origArraySync.call(this); } as typeof origArraySync;
    try {
      await fitSeeded(model, set, { rng: new Rng(2), epochs: 3, batchSize: 8 });
    } finally {
      proto.data = origData; proto.dataSync = origDataSync; proto.arraySync = origArraySync;
    }
    expect(tf.memory().numTensors).toBe(before);
    expect(reads).toBe(3);
    if (backend === 'cpu') expect(syncReads).toBe(0); // (wasm's data() is implemented with dataSync)
    disposeModel(model);
  });

  it('stops on an AbortSignal between batches, rejecting with an AbortError and leaking nothing', async () => {
    const model = createModel('mlp', { inputShape: [5], numClasses: 3, hidden: 8, rng: new Rng(1) });
    const { batch, calls } = provider(data);
    await fitSeeded(model, { indices: range(30), batch }, { rng: new Rng(1), epochs: 1, batchSize: 8 });
    const before = tf.memory().numTensors;

    // Aborted mid-epoch (from inside the batch provider, i.e. during step 3).
    const ac = new AbortController();
    calls.length = 0;
    const aborting = (idx: Int32Array) => { if (calls.length === 2) ac.abort(); return batch(idx); };
    const run = fitSeeded(model, { indices: range(30), batch: aborting }, { rng: new Rng(1), epochs: 5, batchSize: 8, signal: ac.signal });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toHaveLength(3);
    expect(tf.memory().numTensors).toBe(before);

    // Aborted from onEpochEnd: no further epoch starts.
    const ac2 = new AbortController();
    const epochs: number[] = [];
    const run2 = fitSeeded(model, { indices: range(30), batch }, {
      rng: new Rng(1), epochs: 5, batchSize: 8, signal: ac2.signal,
      onEpochEnd: ({ epoch }) => { epochs.push(epoch); if (epoch === 1) ac2.abort(new Error('user stop')); },
    });
    await expect(run2).rejects.toThrow('user stop');
    expect(epochs).toEqual([0, 1]);

    // Already aborted: no batch is built.
    calls.length = 0;
    await expect(fitSeeded(model, { indices: range(30), batch }, { rng: new Rng(1), epochs: 1, batchSize: 8, signal: AbortSignal.abort() }))
      .rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toHaveLength(0);
    expect(tf.memory().numTensors).toBe(before);
    disposeModel(model);
  });

  it('yields to the event loop every yieldIntervalMs, also when each epoch takes less than that', async () => {
    // A clock that moves 10 ms per batch and not otherwise: one batch an epoch, so every epoch
    // is shorter than the 16 ms interval, and a yield is due every second epoch. (An epoch's end
    // once restarted the interval, so such epochs never yielded: a moons sweep held off SIGHUP
    // for 4 s, and the page's Pause waited the same way.)
    const model = createModel('logreg', { inputShape: [5], numClasses: 3, rng: new Rng(1) });
    const { batch } = provider(data);
    let clock = 0;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => clock);
    let turns = 0, training = true;
    const tick = () => { turns++; if (training) setImmediate(tick); };
    try {
      setImmediate(tick);
      await fitSeeded(model, { indices: range(8), batch: (idx) => { clock += 10; return batch(idx); } }, { rng: new Rng(1), epochs: 20, batchSize: 8 });
    } finally {
      training = false; // ends the setImmediate chain, also when fit throws
      spy.mockRestore();
      disposeModel(model);
    }
    // The event loop turned at each of the 10 yields (a setImmediate runs once per turn).
    expect(turns).toBeGreaterThanOrEqual(10);
    expect(turns).toBeLessThanOrEqual(11);
  });

  it('refuses bad inputs with named errors and disposes the offending batch', async () => {
    const model = createModel('logreg', { inputShape: [5], numClasses: 3, rng: new Rng(1) });
    const { batch } = provider(data);
    const before = tf.memory().numTensors;
    const short = (idx: Int32Array) => batch(idx.subarray(1));
    await expect(fitSeeded(model, { indices: range(10), batch: short }, { rng: new Rng(1), epochs: 1, batchSize: 4 }))
      .rejects.toThrow(/must return x \[4, \.\.\.\] and one-hot y \[4, 3\]; got x \[3, 5\], y \[3, 3\]/);
    expect(tf.memory().numTensors).toBe(before);
    await expect(fitSeeded(model, { indices: new Int32Array(0), batch }, { rng: new Rng(1), epochs: 1, batchSize: 4 }))
      .rejects.toThrow(/labeled set is empty/);
    await expect(fitSeeded(model, { indices: range(10), batch }, { rng: new Rng(1), epochs: 1, batchSize: 2.5 }))
      .rejects.toThrow(TrainingError);
    // One fit at a time per model.
    const first = fitSeeded(model, { indices: range(10), batch }, { rng: new Rng(1), epochs: 2, batchSize: 4, yieldIntervalMs: 0 });
    await expect(fitSeeded(model, { indices: range(10), batch }, { rng: new Rng(1), epochs: 1, batchSize: 4 }))
      .rejects.toThrow(/is already training/);
    await first;
    disposeModel(model);
  });
});

// ----------------------------------------------------------------------------------------------

/** Class-dependent 8x8 images: class c lights up a 4x4 quadrant c (plus noise). */
function quadrantImages(n: number, size: number, seed: number): Blobs {
  const rng = new Rng(seed);
  const dim = size * size, h = size / 2;
  const x = new Float32Array(n * dim), y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    y[i] = c;
    for (let r = 0; r < size; r++) {
      for (let col = 0; col < size; col++) {
        const on = (r < h) === (c < 2) && (col < h) === (c % 2 === 0);
        x[i * dim + r * size + col] = (on ? 1 : 0) + 0.1 * rng.next();
      }
    }
  }
  return { x, y, n, dim, numClasses: 4 };
}

describe('cnn training', () => {
  it('learns a tiny 8x8 problem on cpu', async () => {
    await tf.setBackend('cpu');
    const data = quadrantImages(16, 8, 5);
    const model = createModel('cnn', { inputShape: [8, 8, 1], numClasses: 4, rng: new Rng(1), learningRate: 0.01 });
    const { history } = await fitSeeded(model, { indices: range(16), batch: provider(data, [8, 8, 1]).batch }, {
      rng: new Rng(2), epochs: 8, batchSize: 8,
    });
    expect(history.at(-1)!.loss).toBeLessThan(history[0]!.loss * 0.5);
    disposeModel(model);
  });

  const wasmHasConvGrad = tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined;
  it.runIf(wasmHasConvGrad)('trains on wasm on 28x28x1 random data (loss goes down, deterministic)', async () => {
    const { useBackend } = await import('../../src/backend/index.ts');
    await useBackend('wasm');
    const rng = new Rng(9);
    const n = 16, dim = 784;
    const data: Blobs = { x: Float32Array.from({ length: n * dim }, () => rng.next()), y: Uint8Array.from({ length: n }, (_, i) => i % 10), n, dim, numClasses: 10 };
    const train = async () => {
      const model = createModel('cnn', { inputShape: [28, 28, 1], numClasses: 10, rng: new Rng(1) });
      const { history } = await fitSeeded(model, { indices: range(n), batch: provider(data, [28, 28, 1]).batch }, {
        rng: new Rng(2), epochs: 5, batchSize: 8,
      });
      const w = await weightValues(model);
      disposeModel(model);
      return { losses: history.map((h) => h.loss), w };
    };
    const before = tf.memory().numTensors;
    const a = await train();
    expect(a.losses.at(-1)!).toBeLessThan(a.losses[0]!);
    const b = await train();
    expect(b.losses).toEqual(a.losses);
    expect(b.w).toEqual(a.w);
    expect(tf.memory().numTensors).toBe(before);
  });
});
