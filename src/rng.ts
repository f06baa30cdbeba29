/**
 * The one seeded random number generator. Every random choice in ActiveLab (data splits,
 * synthetic data, initial sets, shuffles, weight-initialiser and dropout seeds, random
 * acquisition) draws from an `Rng` derived from the experiment config's seed, so the same
 * config gives the same result.
 *
 * Algorithm: sfc32 (Small Fast Chaotic, 128-bit state), seeded through splitmix32.
 * `fork(label)` derives an independent stream from the current state and a label without
 * advancing the parent more than one draw, so adding a consumer does not shift the others.
 */

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** @param seed any finite number; integers are used as they are, fractions are hashed. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`Rng seed must be a finite number, got ${seed}`);
    let s = hashNumber(seed);
    const next = () => {
      // splitmix32
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Rng.int(n) needs a positive integer n, got ${n}`);
    // Rejection sampling keeps it unbiased for any n < 2^32.
    const limit = 4294967296 - (4294967296 % n);
    let x: number;
    do x = this.uint32();
    while (x >= limit);
    return x % n;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** In-place Fisher-Yates shuffle; returns the same array. */
  shuffle<T extends { length: number; [i: number]: unknown }>(arr: T): T {
    for (let i = arr.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = arr[i];
      arr[i] = arr[j];
      arr[j] = tmp;
    }
    return arr;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** `k` distinct indices from 0..n-1 in random order (partial Fisher-Yates). */
  sample(n: number, k: number): Int32Array {
    if (k > n) throw new RangeError(`cannot sample ${k} distinct indices from ${n}`);
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      const tmp = p[i]!;
      p[i] = p[j]!;
      p[j] = tmp;
    }
    return p.slice(0, k);
  }

  /**
   * A seed for a tfjs API (initialisers, dropout, randomUniform). Never 0: tfjs treats a
   * seed of 0 as "unseeded" (`seed ? seed : Math.random()`).
   */
  tfSeed(): number {
    return 1 + this.int(2147483646);
  }

  /** An independent child stream named by `label` (e.g. 'init', 'shuffle', 'strategy:bald'). */
  fork(label: string): Rng {
    return new Rng((this.uint32() ^ hashString(label)) >>> 0);
  }
}

function hashNumber(x: number): number {
  if (Number.isInteger(x) && Math.abs(x) < 2 ** 53) {
    const hi = Math.floor(x / 4294967296);
    return (Math.imul(hi ^ 0x5bd1e995, 0x27d4eb2d) ^ (x >>> 0)) >>> 0;
  }
  return hashString(String(x));
}

/** FNV-1a, 32-bit. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
