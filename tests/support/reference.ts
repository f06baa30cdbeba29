/**
 * Independent float64 references for every measure: plain loops over number[][] written from
 * the formulas, sharing no code with src/. The kernel suites compare the backends against these.
 */
export type Rows = number[][];

const sortDesc = (r: number[]) => [...r].sort((a, b) => b - a);

export function softmaxRef(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

export function entropyRef(p: number[], base = Math.E): number {
  let h = 0;
  for (const v of p) if (v > 0) h -= v * Math.log(v);
  return h / Math.log(base);
}
export const marginRef = (p: number[]) => { const s = sortDesc(p); return s[0]! - s[1]!; };
export const leastConfidenceRef = (p: number[]) => 1 - Math.max(...p);
export const ratioRef = (p: number[]) => { const s = sortDesc(p); return s[1]! / s[0]!; };
export function varianceRef(p: number[]): number {
  const mu = p.reduce((a, b) => a + b, 0) / p.length;
  return p.reduce((a, v) => a + (v - mu) ** 2, 0) / p.length;
}
export function meanObjectConfidenceRef(instances: number[][], mask: number[], emptyValue = 0): number {
  let s = 0, n = 0;
  instances.forEach((p, i) => { if (mask[i]) { s += Math.max(...p); n++; } });
  return n === 0 ? emptyValue : s / n;
}

/** samples[t][n] is a probability row. */
export function meanOverPasses(samples: number[][][], n: number): number[] {
  const c = samples[0]![n]!.length;
  const m = new Array<number>(c).fill(0);
  for (const pass of samples) pass[n]!.forEach((v, j) => (m[j]! += v / samples.length));
  return m;
}
export const predictiveEntropyRef = (s: number[][][], n: number) => entropyRef(meanOverPasses(s, n));
export function baldRef(s: number[][][], n: number): number {
  const expected = s.reduce((a, pass) => a + entropyRef(pass[n]!), 0) / s.length;
  return predictiveEntropyRef(s, n) - expected;
}
export function variationRatioRef(s: number[][][], n: number): number {
  const votes = new Map<number, number>();
  for (const pass of s) {
    const row = pass[n]!;
    let best = 0;
    for (let j = 1; j < row.length; j++) if (row[j]! > row[best]!) best = j;
    votes.set(best, (votes.get(best) ?? 0) + 1);
  }
  return 1 - Math.max(...votes.values()) / s.length;
}
export function meanStdRef(s: number[][][], n: number): number {
  const c = s[0]![n]!.length;
  let total = 0;
  for (let j = 0; j < c; j++) {
    const xs = s.map((pass) => pass[n]![j]!);
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const m2 = xs.reduce((a, b) => a + b * b, 0) / xs.length;
    total += Math.sqrt(Math.max(0, m2 - m * m));
  }
  return total / c;
}
