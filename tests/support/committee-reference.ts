/**
 * Independent float64 references for the query-by-committee measures: plain loops over
 * members[m][n][c], written from Settles' (2009) definitions, sharing no code with src/.
 */
import { entropyRef } from './reference.ts';

export type Committee = number[][][];

/** The class a member votes for: its argmax, ties to the lower class. */
function vote(p: number[]): number {
  let best = 0;
  for (let j = 1; j < p.length; j++) if (p[j]! > p[best]!) best = j;
  return best;
}

export function voteEntropyRef(members: Committee, n: number): number {
  const c = members[0]![n]!.length;
  const share = new Array<number>(c).fill(0);
  for (const m of members) share[vote(m[n]!)]! += 1 / members.length;
  return entropyRef(share);
}

export function consensusRef(members: Committee, n: number): number[] {
  const c = members[0]![n]!.length;
  const mean = new Array<number>(c).fill(0);
  for (const m of members) m[n]!.forEach((v, j) => (mean[j]! += v / members.length));
  return mean;
}

export const consensusEntropyRef = (members: Committee, n: number) => entropyRef(consensusRef(members, n));

/** D_KL(p || q) with 0 log 0 = 0. */
export function klRef(p: number[], q: number[]): number {
  let d = 0;
  p.forEach((v, j) => { if (v > 0) d += v * Math.log(v / q[j]!); });
  return d;
}

export function disagreementRef(members: Committee, n: number, reduce: 'mean' | 'max' = 'mean'): number {
  const q = consensusRef(members, n);
  const kls = members.map((m) => klRef(m[n]!, q));
  return reduce === 'mean' ? kls.reduce((a, b) => a + b, 0) / kls.length : Math.max(...kls);
}
