/**
 * The page's calibration for `backend: 'auto'` (src/app/host/calibrate.ts), run in Node on wasm
 * and cpu: it measures the workload, frees every tensor it made, stops a candidate that is already
 * slower than the best, records a backend that cannot start, and reads cached timings instead of
 * measuring again.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { useBackend, type BackendName } from '../../src/backend/index.ts';
import type { BackendTiming } from '../../src/backend/auto-choice.ts';
import { chooseBackend, measureActive, measureCandidates, STEPS, type TimingCache } from '../../src/app/host/calibrate.ts';

const workload = { dataset: 'classification', model: 'mlp', batchSize: 16, chunkSize: 64 } as const;

describe('calibration', { timeout: 60_000 }, () => {
  it('measures training steps and a predict chunk on the active backend and leaks no tensor', async () => {
    await useBackend('wasm');
    await measureActive(workload, Infinity); // warm up the kernels' own caches
    const before = tf.memory().numTensors;
    const t = await measureActive(workload, Infinity);
    expect(tf.memory().numTensors).toBe(before);
    expect(t.complete).toBe(true);
    expect(t.stepMs).toBeGreaterThan(0);
    expect(t.predictMs).toBeGreaterThan(0);
    expect(t.ms).toBeCloseTo(t.stepMs! * STEPS + t.predictMs!, 6);
    expect(t.renderer).toBeNull();
    expect(t.timedOutAfterMs).toBeNull();
  });

  it('stops as soon as it is slower than the budget: one step, no predict, incomplete', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const t = await measureActive(workload, 0);
    expect(tf.memory().numTensors).toBe(before);
    expect(t).toMatchObject({ complete: false, predictMs: null });
    expect(t.ms).toBe(t.stepMs);
  });

  it('gives up waiting at the deadline (warm-up included); the queued work finishes and its tensors are freed', async () => {
    await useBackend('wasm');
    const cnn = { dataset: 'mnist', model: 'cnn', batchSize: 32, chunkSize: 256 } as const;
    const before = tf.memory().numTensors;
    const t = await measureActive(cnn, Infinity, 1);
    expect(t.complete).toBe(false);
    expect(t.timedOutAfterMs).toBeGreaterThanOrEqual(1);
    await expect.poll(() => tf.memory().numTensors, { timeout: 20_000 }).toBe(before);
  });

  it('records a backend that cannot start, and picks from the ones that ran', async () => {
    const use = async (name: BackendName) => {
      if (name === 'webgl') throw new Error('no WebGL in Node');
      await useBackend(name);
    };
    const timings = await measureCandidates(workload, { use }, ['wasm', 'webgl', 'cpu']);
    expect(timings.map((t) => [t.backend, t.error])).toEqual([['wasm', null], ['webgl', 'no WebGL in Node'], ['cpu', null]]);
    expect(timings[0]!.complete).toBe(true);
  });

  it('measures once, then reads the cache: the same pick, no backend measured again', async () => {
    const stored = new Map<string, BackendTiming[]>();
    const cache: TimingCache = { get: async (k) => stored.get(k) ?? null, set: async (k, t) => void stored.set(k, t) };
    const used: string[] = [];
    const parts = { use: async (name: BackendName) => { used.push(name); await useBackend(name); }, progress: (m: string) => used.push(m) };
    const first = await chooseBackend(workload, { ...parts }, cache);
    expect(first.cached).toBe(false);
    expect(first.timings.map((t) => t.backend)).toEqual(['wasm', 'webgl']);
    expect(stored.size).toBe(1);
    expect(used.some((m) => m.startsWith('measuring wasm on mlp'))).toBe(true);
    used.length = 0;
    const second = await chooseBackend(workload, parts, cache);
    expect(second).toEqual({ ...first, cached: true });
    expect(used).toEqual([first.picked]);
    expect(tf.getBackend()).toBe(first.picked);
  });
});
