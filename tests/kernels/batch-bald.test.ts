/**
 * Greedy BatchBALD on every backend of this environment (Node: cpu, wasm; Chromium: webgl, wasm)
 * against the float64 greedy reference in tests/support/batch-reference.ts, which enumerates the
 * joint distribution directly.
 */
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchBald, batchBaldGains, EXACT_JOINT_LIMIT } from '../../src/acquisition/batch/batch-bald.ts';
import { bald } from '../../src/acquisition/measures/bald.ts';
import { InvalidProbabilitiesError, SelectionError } from '../../src/acquisition/errors.ts';
import { topKIndices } from '../../src/acquisition/select.ts';
import { Rng } from '../../src/rng.ts';
import { onBackend, TEST_BACKENDS, TOLERANCE, IN_BROWSER, isGpuBackend } from '../support/backends.ts';
import { probRow } from '../support/arbitraries.ts';
import { baldRef } from '../support/reference.ts';
import { baldAllRef, greedyBatchBaldRef, jointMutualInformationRef, type Samples } from '../support/batch-reference.ts';

/** [T, N, C] probabilities from a seed: rows of varied sharpness, float32-rounded. */
function randomSamples(seed: number, t: number, n: number, c: number): Samples {
  const rng = new Rng(seed);
  const centre = Array.from({ length: n }, () => Array.from({ length: c }, () => rng.normal() * 2));
  return Array.from({ length: t }, () =>
    centre.map((z, i) => {
      const spread = [0.2, 1, 3][i % 3]!; // how much the passes disagree on this row
      const logits = z.map((v) => v + rng.normal() * spread);
      const m = Math.max(...logits);
      const e = logits.map((v) => Math.exp(v - m));
      const s = e.reduce((a, b) => a + b, 0);
      return Array.from(Float32Array.from(e.map((v) => v / s)));
    }),
  );
}

/** The largest tensor (in numbers) created while `f` runs. */
async function largestTensorDuring<T>(f: () => Promise<T>): Promise<{ value: T; largest: number }> {
  const engine = tf.engine() as unknown as { trackTensor(a: tf.Tensor, backend: unknown): void };
  const original = engine.trackTensor;
  let largest = 0;
  engine.trackTensor = function (this: unknown, a: tf.Tensor, backend: unknown) {
    original.call(this, a, backend);
    largest = Math.max(largest, a.size);
  };
  try {
    return { value: await f(), largest };
  } finally {
    engine.trackTensor = original;
  }
}

const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);

describe.each(TEST_BACKENDS)('batchBald on %s', (backend) => {
  onBackend(backend);
  const tol = TOLERANCE[backend] * 10; // gains are sums over M·C terms of float32 products
  const runs = IN_BROWSER && isGpuBackend(backend) ? 4 : 40;

  it('k = 1 picks the BALD maximiser, with its BALD score as the gain', async () => {
    for (const seed of [1, 2, 3]) {
      const s = randomSamples(seed, 6, 25, 4);
      const x = tf.tensor3d(s);
      const ref = baldAllRef(s);
      const best = ref.indexOf(Math.max(...ref));
      const r = await batchBald(x, 1, { rng: new Rng(0) });
      expect(Array.from(r.indices)).toEqual([best]);
      expect(r.gains[0]!).toBeCloseTo(ref[best]!, 4);
      expect(r.estimators).toEqual(['exact']);
      // the same pick as the bald measure through the shared selector
      const b = bald(x);
      expect(Array.from(r.indices)).toEqual(Array.from(topKIndices(await b.data(), 1)));
      tf.dispose([b, x]);
    }
  });

  it('exact joint (k <= 4, C <= 4): picks and gains equal the float64 greedy reference (seeded property)', async () => {
    const arb = fc
      .tuple(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 10 }), fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 4 }))
      .chain(([t, n, c, k]) =>
        fc.tuple(fc.array(fc.array(probRow(c), { minLength: n, maxLength: n }), { minLength: t, maxLength: t }), fc.constant(k)),
      );
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(arb, async ([s, k]) => {
        const ref = greedyBatchBaldRef(s, k);
        // A step whose best and runner-up are closer than float32 can tell is a tie, not a test.
        fc.pre(ref.gaps.every((g) => g > 20 * tol));
        const x = tf.tensor3d(s);
        try {
          const r = await batchBald(x, k, { rng: new Rng(1) });
          expect(Array.from(r.indices)).toEqual(ref.picks);
          expect(r.estimators.every((e) => e === 'exact')).toBe(true);
          r.gains.forEach((g, j) => expect(Math.abs(g - ref.gains[j]!)).toBeLessThan(tol));
          compared++;
        } finally {
          x.dispose();
        }
      }),
      { seed: 2019, numRuns: runs },
    );
    expect(compared).toBeGreaterThan(runs / 2);
  });

  it("the batch's joint mutual information is at most the sum of its members' BALD scores (seeded property)", async () => {
    const arb = fc
      .tuple(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 3, max: 9 }), fc.integer({ min: 2, max: 3 }), fc.integer({ min: 2, max: 4 }))
      .chain(([t, n, c, k]) =>
        fc.tuple(fc.array(fc.array(probRow(c), { minLength: n, maxLength: n }), { minLength: t, maxLength: t }), fc.constant(k)),
      );
    await fc.assert(
      fc.asyncProperty(arb, async ([s, k]) => {
        const x = tf.tensor3d(s);
        try {
          const r = await batchBald(x, k, { rng: new Rng(1) });
          const picks = Array.from(r.indices);
          const joint = jointMutualInformationRef(s, picks);
          const members = picks.reduce((a, i) => a + baldRef(s, i), 0);
          expect(joint).toBeLessThanOrEqual(members + 1e-12); // the definition (float64)
          expect(sum(r.gains)).toBeLessThanOrEqual(members + tol); // the module's own gains
          expect(Math.abs(sum(r.gains) - joint)).toBeLessThan(tol * k); // gains add up to the joint MI
          r.gains.forEach((g) => expect(g).toBeGreaterThanOrEqual(0));
        } finally {
          x.dispose();
        }
      }),
      { seed: 2020, numRuns: runs },
    );
  });

  it('a duplicated most-uncertain row is taken once; BALD top-k would take every copy', async () => {
    // Four passes. Rows 0, 1, 2 are the same row: passes 0 and 2 say class 0, passes 1 and 3
    // class 1. Row 3 splits the passes the other way (0 and 1 say class 1, 2 and 3 class 2), so
    // its label is independent of row 0's, with a little less BALD. Rows 4-6 are confident.
    const dup = (t: number) => (t % 2 === 0 ? [0.95, 0.04, 0.01] : [0.04, 0.95, 0.01]);
    const other = (t: number) => (t < 2 ? [0.02, 0.9, 0.08] : [0.02, 0.1, 0.88]);
    const sure = [0.98, 0.01, 0.01];
    const s = Array.from({ length: 4 }, (_, t) => [dup(t), dup(t), dup(t), other(t), sure, sure, sure]);
    const x = tf.tensor3d(s);
    const b = bald(x);
    expect(Array.from(topKIndices(await b.data(), 2))).toEqual([0, 1]);
    const r = await batchBald(x, 2, { rng: new Rng(1) });
    expect(Array.from(r.indices)).toEqual([0, 3]);
    expect(r.gains[1]!).toBeGreaterThan(0.3);
    const g = await batchBaldGains(x, [0], { rng: new Rng(1) });
    const single = await b.data();
    // A copy of the picked row adds a fifth of its BALD (the passes' 4% noise keeps the copy's
    // label from being certain); the independent row adds exactly its own BALD.
    const copyGain = jointMutualInformationRef(s, [0, 1]) - jointMutualInformationRef(s, [0]);
    expect(copyGain).toBeLessThan(0.25 * single[1]!);
    expect(Math.abs(g.gains[1]! - copyGain)).toBeLessThan(tol);
    expect(g.gains[2]!).toBeCloseTo(g.gains[1]!, 6);
    expect(g.gains[3]!).toBeCloseTo(single[3]!, 4);
    expect(single[3]!).toBeLessThan(single[0]!);
    tf.dispose([x, b]);
  });

  it('excluded rows and rows with a non-finite value are never picked; k beyond the open rows returns them all', async () => {
    const s = randomSamples(7, 5, 12, 3);
    const order = greedyBatchBaldRef(s, 12).picks;
    const [first, second] = order;
    s[2]![second!]![1] = Number.NaN;
    s[0]![order[2]!]![0] = Infinity;
    const exclude = new Uint8Array(12);
    exclude[first!] = 1;
    exclude[order[3]!] = 1;
    const x = tf.tensor3d(s);
    const r = await batchBald(x, 20, { rng: new Rng(1), exclude });
    const got = Array.from(r.indices);
    expect(got).toHaveLength(8);
    for (const bad of [first, second, order[2], order[3]]) expect(got).not.toContain(bad);
    expect(new Set(got).size).toBe(8);
    r.gains.forEach((g) => expect(Number.isFinite(g)).toBe(true));
    const all = new Uint8Array(12).fill(1);
    expect(Array.from((await batchBald(x, 3, { rng: new Rng(1), exclude: all })).indices)).toEqual([]);
    x.dispose();
  });

  it('beyond the exact limit the cached samples estimate each gain within 0.01 nats of the exact gain', async () => {
    // exactLimit 1 forces the sampled estimator from the second pick on, where C^n <= 27 could be
    // enumerated. With M_eff = 39,996 draws the standard error of a gain is at most
    // (log C / 2) / sqrt(M_eff) = 0.0027 nats; 0.01 is 3.7 of those bounds. Measured on cpu: at
    // most 0.0013 here; over 5 seeds the largest error was 0.033, 0.008, 0.0024 and 0.0013 at
    // M = 100, 1,000, 10,000 and 40,000 (about 1 / sqrt(M)). On webgpu 10,000 draws (standard
    // error at most 0.0055 nats): SwiftShader's WebGPU adapter here takes seconds for each
    // reduction over a [M, N, C] block (one workgroup per row): 40,000 ran past the 300 s timeout,
    // 20,000 took 225 s, 10,000 159 s. The draws come from our Rng in JS, the same on every backend.
    const jointSamples = backend === 'webgpu' ? 10_000 : 40_000;
    const s = randomSamples(11, 6, 14, 3);
    const x = tf.tensor3d(s);
    const sampled = await batchBald(x, 4, { rng: new Rng(5), exactLimit: 1, jointSamples });
    expect(sampled.estimators).toEqual(['exact', 'sampled', 'sampled', 'sampled']);
    const picks = Array.from(sampled.indices);
    for (let j = 1; j < 4; j++) {
      const exact = jointMutualInformationRef(s, picks.slice(0, j + 1)) - jointMutualInformationRef(s, picks.slice(0, j));
      expect(Math.abs(sampled.gains[j]! - exact)).toBeLessThan(0.01);
    }
    // Every candidate's gain given a fixed set, fresh samples vs exact enumeration.
    const given = [picks[0]!, picks[1]!, picks[2]!];
    const ex = await batchBaldGains(x, given, { rng: new Rng(9) });
    const sa = await batchBaldGains(x, given, { rng: new Rng(9), exactLimit: 26, jointSamples });
    expect(ex.estimator).toBe('exact');
    expect(sa.estimator).toBe('sampled');
    const base = jointMutualInformationRef(s, given);
    for (let i = 0; i < 14; i++) {
      if (given.includes(i)) continue;
      const want = jointMutualInformationRef(s, [...given, i]) - base;
      expect(Math.abs(ex.gains[i]! - want)).toBeLessThan(tol);
      expect(Math.abs(sa.gains[i]! - want)).toBeLessThan(0.01);
    }
    // The same seed gives the same sampled batch.
    const again = await batchBald(x, 4, { rng: new Rng(5), exactLimit: 1, jointSamples });
    expect(Array.from(again.indices)).toEqual(picks);
    expect(Array.from(again.gains)).toEqual(Array.from(sampled.gains));
    x.dispose();
  });

  it('switches from exact to sampled where C^n first exceeds 65,536 (C = 10: after 4 picks)', async () => {
    const s = randomSamples(3, 4, 12, 10);
    const x = tf.tensor3d(s);
    const r = await batchBald(x, 6, { rng: new Rng(2), jointSamples: 2_000 });
    expect(EXACT_JOINT_LIMIT).toBe(65_536);
    expect(r.estimators).toEqual(['exact', 'exact', 'exact', 'exact', 'exact', 'sampled']);
    expect(new Set(r.indices).size).toBe(6);
    // the exact part agrees with the reference's first picks where they are clear
    const ref = greedyBatchBaldRef(s, 3);
    if (ref.gaps.every((g) => g > 20 * tol)) expect(Array.from(r.indices.slice(0, 3))).toEqual(ref.picks);
    x.dispose();
  });

  it('candidates: after the first pick only the top BALD rows are scored; the picks are the greedy reference among them', async () => {
    const s = randomSamples(34, 5, 30, 3); // a seed whose reference picks are clear even on webgl (gaps > 0.02)
    const x = tf.tensor3d(s);
    const ref = baldAllRef(s);
    const top = ref.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 8).map(([, i]) => i);
    const outside = new Set(ref.map((_, i) => i).filter((i) => !top.includes(i)));
    const want = greedyBatchBaldRef(s, 4, outside);
    expect(want.gaps.every((g) => g > 20 * tol)).toBe(true);
    const r = await batchBald(x, 4, { rng: new Rng(1), candidates: 8 });
    expect(Array.from(r.indices)).toEqual(want.picks);
    for (const i of r.indices) expect(top).toContain(i);
    // A batch holds at most `candidates` rows.
    expect(Array.from((await batchBald(x, 5, { rng: new Rng(1), candidates: 3 })).indices)).toHaveLength(3);
    await expect(batchBald(x, 2, { rng: new Rng(1), candidates: 0 })).rejects.toThrow(/candidates must be a positive integer/);
    x.dispose();
  });

  it('chunked: no tensor exceeds chunkElements, and the result equals the unchunked one', async () => {
    const s = randomSamples(4, 4, 40, 3); // T·N·C = 480 numbers in the input
    const x = tf.tensor3d(s);
    const whole = await batchBald(x, 4, { rng: new Rng(3) });
    for (const opts of [{ chunkElements: 48 }, { chunkElements: 48, exactLimit: 1, jointSamples: 40 }]) {
      const plain = await batchBald(x, 4, { rng: new Rng(3), ...opts, chunkElements: 1 << 22 });
      const { value, largest } = await largestTensorDuring(() => batchBald(x, 4, { rng: new Rng(3), ...opts }));
      expect(largest).toBeLessThanOrEqual(48);
      expect(Array.from(value.indices)).toEqual(Array.from(plain.indices));
      value.gains.forEach((g, j) => expect(Math.abs(g - plain.gains[j]!)).toBeLessThan(tol));
    }
    const { value } = await largestTensorDuring(() => batchBald(x, 4, { rng: new Rng(3), chunkElements: 48 }));
    expect(Array.from(value.indices)).toEqual(Array.from(whole.indices));
    x.dispose();
  });

  it('fromLogits gives the picks of the same probabilities', async () => {
    const s = randomSamples(5, 5, 15, 3);
    const p = tf.tensor3d(s);
    const z = tf.tidy(() => tf.log(p));
    const a = await batchBald(p, 3, { rng: new Rng(1) });
    const b = await batchBald(z as tf.Tensor3D, 3, { rng: new Rng(1), fromLogits: true });
    expect(Array.from(b.indices)).toEqual(Array.from(a.indices));
    b.gains.forEach((g, j) => expect(Math.abs(g - a.gains[j]!)).toBeLessThan(tol));
    tf.dispose([p, z]);
  });

  it('leaks no tensor: exact, sampled, given-set and failing calls', async () => {
    const x = tf.tensor3d(randomSamples(6, 4, 20, 3));
    await batchBald(x, 3, { rng: new Rng(1) }); // warm up
    const before = tf.memory().numTensors;
    await batchBald(x, 3, { rng: new Rng(1) });
    await batchBald(x, 4, { rng: new Rng(1), exactLimit: 1, jointSamples: 100, chunkElements: 48 });
    await batchBald(x, 3, { rng: new Rng(1), candidates: 6, chunkElements: 48 });
    await batchBaldGains(x, [1, 2], { rng: new Rng(1) });
    await batchBaldGains(x, [], { rng: new Rng(1) });
    await expect(batchBald(x, 2, { rng: new Rng(1), exclude: new Uint8Array(3) })).rejects.toThrow(SelectionError);
    await expect(batchBaldGains(x, [20], { rng: new Rng(1) })).rejects.toThrow(/given\[0\] = 20/);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('says what is wrong with bad input', async () => {
    const x = tf.tensor3d(randomSamples(6, 2, 5, 3));
    const flat = tf.tensor2d([[0.5, 0.5]]);
    await expect(batchBald(flat as unknown as tf.Tensor3D, 1, { rng: new Rng(1) })).rejects.toThrow(InvalidProbabilitiesError);
    await expect(batchBald(x, 0, { rng: new Rng(1) })).rejects.toThrow(/k must be a positive integer/);
    await expect(batchBald(x, 1, { rng: new Rng(1), exclude: new Uint8Array(4) })).rejects.toThrow(/length 5/);
    await expect(batchBald(x, 1, { rng: new Rng(1), exactLimit: 0 })).rejects.toThrow(/exactLimit/);
    await expect(batchBald(x, 1, { rng: new Rng(1), jointSamples: 1.5 })).rejects.toThrow(/jointSamples/);
    await expect(batchBald(x, 1, { rng: new Rng(1), chunkElements: 5 })).rejects.toThrow(/chunkElements must be an integer >= T·C = 6/);
    await expect(batchBald(x, 1, {} as never)).rejects.toThrow(/rng/);
    tf.dispose([x, flat]);
  });
});
