/** Seeded test data identical in Node and Chromium, independent of src/ (mulberry32). */

/** Seeded uniform floats in [-1, 1). */
export function seededValues(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** The number of elements of a shape. */
export const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
