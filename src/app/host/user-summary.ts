/** The summary of the user's own data the page shows before a run (plain data; no tfjs). */
import { describeUserData, type UserData } from '../../../datasets/user/data.ts';
import { NO_LABEL, SAMPLES_PER_CLASS, type UserDataSummary } from '../protocol.ts';

/** What the page shows of the user's data before a run: class counts, a few images per class, the problems. */
export function summarizeUserData(u: UserData, warnings: readonly string[]): UserDataSummary {
  const d = describeUserData(u);
  const k = u.classNames.length;
  const classCounts = new Array<number>(k).fill(0);
  for (const part of u.testRows ? [u.rows, u.testRows] : [u.rows]) for (let i = 0; i < part.n; i++) classCounts[part.y[i]!]!++;
  let samples: UserDataSummary['samples'] = null;
  if (!u.labeled && u.rows.x instanceof Uint8Array) {
    // No labels: the first images, none of them counted in a class.
    classCounts.fill(0);
    const k2 = Math.min(SAMPLES_PER_CLASS, u.rows.n);
    const dim = u.shape.reduce((a, b) => a * b, 1);
    samples = { labels: new Uint8Array(k2).fill(NO_LABEL), pixels: u.rows.x.slice(0, k2 * dim) };
  } else if (u.kind === 'image' && u.rows.x instanceof Uint8Array) {
    const dim = u.shape.reduce((a, b) => a * b, 1);
    const taken = new Array<number>(k).fill(0);
    const rows: number[] = [];
    for (let i = 0; i < u.rows.n; i++) {
      const c = u.rows.y[i]!;
      if (taken[c]! < SAMPLES_PER_CLASS) {
        taken[c]!++;
        rows.push(i);
      }
    }
    rows.sort((a, b) => u.rows.y[a]! - u.rows.y[b]! || a - b);
    const pixels = new Uint8Array(rows.length * dim);
    rows.forEach((r, j) => pixels.set((u.rows.x as Uint8Array).subarray(r * dim, (r + 1) * dim), j * dim));
    samples = { labels: Uint8Array.from(rows, (r) => u.rows.y[r]!), pixels };
  }
  return {
    description: { name: d.name, kind: u.kind, description: d.description, shape: [...d.shape], classNames: [...d.classNames], sizes: { ...d.sizes }, hash: u.hash, ...(u.labeled ? {} : { unlabeled: true }) },
    classCounts, samples, featureNames: u.featureNames, warnings: [...warnings],
  };
}

