import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/rng.ts';

describe('Rng', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(1), b = new Rng(1), c = new Rng(2);
    const xa = Array.from({ length: 8 }, () => a.uint32());
    const xb = Array.from({ length: 8 }, () => b.uint32());
    const xc = Array.from({ length: 8 }, () => c.uint32());
    expect(xa).toEqual(xb);
    expect(xa).not.toEqual(xc);
  });

  it('next() is uniform in [0, 1) (mean and range over 100k draws)', () => {
    const r = new Rng(7);
    let sum = 0, min = 1, max = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r.next();
      sum += x; min = Math.min(min, x); max = Math.max(max, x);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.005);
  });

  it('int(n) covers 0..n-1 evenly and rejects bad n', () => {
    const r = new Rng(3);
    const counts = new Array(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[r.int(6)]++;
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
    expect(() => r.int(0)).toThrow(/positive integer/);
    expect(() => r.int(2.5)).toThrow(/positive integer/);
  });

  it('normal() has mean 0 and variance 1', () => {
    const r = new Rng(11);
    let s = 0, s2 = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) { const z = r.normal(); s += z; s2 += z * z; }
    expect(Math.abs(s / n)).toBeLessThan(0.02);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.03);
  });

  it('permutation and sample give distinct indices', () => {
    const r = new Rng(5);
    const p = r.permutation(100);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const s = r.sample(50, 20);
    expect(new Set(s).size).toBe(20);
    for (const i of s) expect(i).toBeLessThan(50);
    expect(() => r.sample(3, 4)).toThrow(/cannot sample 4 distinct indices from 3/);
  });

  it('tfSeed() is never 0 (tfjs reads seed 0 as unseeded)', () => {
    const r = new Rng(0);
    for (let i = 0; i < 10_000; i++) expect(r.tfSeed()).toBeGreaterThan(0);
  });

  it('fork gives independent, reproducible streams', () => {
    const f1 = new Rng(9).fork('a'), f2 = new Rng(9).fork('a'), g = new Rng(9).fork('b');
    expect(f1.uint32()).toBe(f2.uint32());
    expect(new Rng(9).fork('a').uint32()).not.toBe(g.uint32());
  });

  it('rejects a non-finite seed', () => {
    expect(() => new Rng(NaN)).toThrow(/finite/);
  });
});
