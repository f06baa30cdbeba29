/** fast-check generators of probability matrices and MC-sample tensors. */
import fc from 'fast-check';

/** A probability row of length c: non-negative, sums to 1, sometimes peaked, sometimes with exact zeros. */
export function probRow(c: number): fc.Arbitrary<number[]> {
  return fc
    .tuple(
      fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: c, maxLength: c }),
      fc.constantFrom(0.25, 1, 3, 8), // sharpness: larger = more peaked
      fc.array(fc.boolean(), { minLength: c, maxLength: c }), // zero out some classes
    )
    .map(([raw, sharp, zero]) => {
      let w = raw.map((v, j) => (zero[j] && j > 0 ? 0 : Math.pow(v + 1e-3, sharp)));
      if (w.every((v) => v === 0)) w = w.map(() => 1);
      const s = w.reduce((a, b) => a + b, 0);
      w = w.map((v) => v / s);
      // Round through float32 so reference and backend see the same inputs.
      const f = Float32Array.from(w);
      return Array.from(f);
    });
}

/** [n, c] probabilities with 1 <= n <= maxN and 2 <= c <= maxC (or a fixed c). */
export function probMatrix(opts: { maxN?: number; c?: number; maxC?: number } = {}): fc.Arbitrary<number[][]> {
  const cArb = opts.c !== undefined ? fc.constant(opts.c) : fc.integer({ min: 2, max: opts.maxC ?? 10 });
  return cArb.chain((c) => fc.array(probRow(c), { minLength: 1, maxLength: opts.maxN ?? 12 }));
}

/** [T, N, C] MC samples. */
export function mcSamples(opts: { maxT?: number; maxN?: number; maxC?: number } = {}): fc.Arbitrary<number[][][]> {
  return fc
    .tuple(fc.integer({ min: 1, max: opts.maxT ?? 6 }), fc.integer({ min: 1, max: opts.maxN ?? 6 }), fc.integer({ min: 2, max: opts.maxC ?? 6 }))
    .chain(([t, n, c]) => fc.array(fc.array(probRow(c), { minLength: n, maxLength: n }), { minLength: t, maxLength: t }));
}

/** A permutation of 0..c-1. */
export function permutation(c: number): fc.Arbitrary<number[]> {
  return fc.shuffledSubarray(Array.from({ length: c }, (_, i) => i), { minLength: c, maxLength: c });
}
