/**
 * The rows of a dataset split on the CPU, and the seeded stratified train/test split that the
 * synthetic datasets and the user's own data share. Plain data, no tfjs (the page reads it).
 */
import type { Rng } from '../src/rng.ts';

export interface Split {
  /** Row-major `[n, ...shape]`. Images: Uint8Array 0..255; synthetic and tabular data: Float32Array. */
  x: Uint8Array | Float32Array;
  /** Class index per row, 0..numClasses-1. */
  y: Uint8Array;
  n: number;
}

/** Stratified split into train/test; both are returned in a random (seeded) order. */
export function stratifiedSplit(
  x: Uint8Array | Float32Array,
  y: Uint8Array,
  numClasses: number,
  testFraction: number,
  rng: Rng,
): { train: Split; test: Split } {
  if (!(testFraction >= 0 && testFraction < 1)) throw new RangeError(`testFraction must be in [0, 1), got ${testFraction}`);
  const n = y.length;
  const d = n === 0 ? 0 : x.length / n;
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < n; i++) byClass[y[i]!]!.push(i);
  // Largest-remainder allocation of the test rows across classes.
  const nTest = Math.round(n * testFraction);
  const quota = byClass.map((rows) => rows.length * testFraction);
  const take = quota.map(Math.floor);
  let left = nTest - take.reduce((a, b) => a + b, 0);
  const order = quota.map((q, c) => c).sort((a, b) => quota[b]! - take[b]! - (quota[a]! - take[a]!) || a - b);
  for (const c of order) {
    if (left <= 0) break;
    if (take[c]! < byClass[c]!.length) {
      take[c]!++;
      left--;
    }
  }
  const trainIdx: number[] = [];
  const testIdx: number[] = [];
  byClass.forEach((rows, c) => {
    rng.shuffle(rows);
    testIdx.push(...rows.slice(0, take[c]));
    trainIdx.push(...rows.slice(take[c]));
  });
  rng.shuffle(trainIdx);
  rng.shuffle(testIdx);
  const pick = (idx: number[]): Split => {
    const xs = x instanceof Uint8Array ? new Uint8Array(idx.length * d) : new Float32Array(idx.length * d);
    const ys = new Uint8Array(idx.length);
    idx.forEach((j, i) => {
      xs.set(x.subarray(j * d, (j + 1) * d), i * d);
      ys[i] = y[j]!;
    });
    return { x: xs, y: ys, n: idx.length };
  };
  return { train: pick(trainIdx), test: pick(testIdx) };
}
