/**
 * The page's side of the user's own data, in Node: the summary the host sends before a run
 * (src/app/host/user-summary.ts), the check of a kept dataset read back from IndexedDB
 * (src/app/store.ts), and a link's dataHash (src/app/fields.ts).
 */
import { describe, expect, it } from 'vitest';
import { userData, type UserData } from '../../datasets/user/data.ts';
import { parseLink } from '../../src/app/fields.ts';
import { summarizeUserData } from '../../src/app/host/user-summary.ts';
import { NO_LABEL, SAMPLES_PER_CLASS } from '../../src/app/protocol.ts';
import { checkStoredUserData, type StoredUserData } from '../../src/app/store.ts';

/** `counts[c]` images of 2x2x1 per class c, each pixel its row index. */
function images(counts: number[]): UserData {
  const y = Uint8Array.from(counts.flatMap((n, c) => new Array<number>(n).fill(c)));
  const x = Uint8Array.from({ length: y.length * 4 }, (_, i) => Math.floor(i / 4));
  return userData({
    name: 'pets', kind: 'image', shape: [2, 2, 1], classNames: counts.map((_, c) => `c${c}`), rows: { x, y, n: y.length }, testRows: null, labeled: true,
    source: { data: 'pets', test: null, testFraction: 0.2, labelColumn: null }, featureNames: null, origin: (i) => ({ file: `pets/${i}.png` }),
  });
}

describe('the summary of the user\'s data', () => {
  it('counts every class, samples at most SAMPLES_PER_CLASS of each in class order, keeps every warning', () => {
    const u = images([12, 3, 9]);
    const s = summarizeUserData(u, ['pets/c1/x.txt: not an image: skipped']);
    expect(s.classCounts).toEqual([12, 3, 9]);
    const want = [...new Array<number>(SAMPLES_PER_CLASS).fill(0), 1, 1, 1, ...new Array<number>(SAMPLES_PER_CLASS).fill(2)];
    expect(Array.from(s.samples!.labels)).toEqual(want);
    // Each sample's pixels are its row's: the first of class 2 is row 15 (12 + 3).
    expect(s.samples!.pixels.length).toBe(s.samples!.labels.length * 4);
    expect(Array.from(s.samples!.pixels.subarray((SAMPLES_PER_CLASS + 3) * 4, (SAMPLES_PER_CLASS + 4) * 4))).toEqual([15, 15, 15, 15]);
    expect(s.description).toMatchObject({ name: 'pets', kind: 'image', shape: [2, 2, 1], hash: u.hash, sizes: { train: 19, test: 5 } });
    expect(s.warnings).toEqual(['pets/c1/x.txt: not an image: skipped']);
  });

  it('of images without labels: no class counted, the first images as samples, no test rows; kept and read back', () => {
    const u = { ...images([12]), labeled: false, classNames: ['cat', 'dog'], source: { data: 'pets', test: null, testFraction: null, labelColumn: null } };
    const un = userData(u);
    const s = summarizeUserData(un, []);
    expect(s.classCounts).toEqual([0, 0]);
    expect(Array.from(s.samples!.labels)).toEqual(new Array<number>(SAMPLES_PER_CLASS).fill(NO_LABEL));
    expect(Array.from(s.samples!.pixels.subarray(4, 8))).toEqual([1, 1, 1, 1]);
    expect(s.description).toMatchObject({ sizes: { train: 12, test: 0 }, unlabeled: true, classNames: ['cat', 'dog'] });
    const kept: StoredUserData = { name: 'pets', hash: un.hash, data: 'pets', options: { imageSize: [2, 2, 1], classes: ['cat', 'dog'] }, files: [{ path: 'pets/a.png', file: new Blob(['x']) }], summary: s, storedAt: '2026-12-01T00:00:00Z' };
    expect(checkStoredUserData(kept)?.description).toMatchObject({ unlabeled: true, sizes: { train: 12, test: 0 }, numClasses: 2 });
    // A labeled description with no test rows is not valid.
    expect(checkStoredUserData({ ...kept, summary: { ...s, description: { ...s.description, unlabeled: false } } })).toBeNull();
  });
});

describe('a kept dataset read back', () => {
  const u = images([5, 5]);
  const summary = summarizeUserData(u, []);
  const kept: StoredUserData = { name: 'pets', hash: u.hash, data: 'pets', options: { imageSize: [2, 2, 1] }, files: [{ path: 'pets/c0/a.png', file: new Blob(['x']) }], summary, storedAt: '2026-12-01T00:00:00Z' };

  it('is accepted with its catalog entry', () => {
    const r = checkStoredUserData(kept);
    expect(r?.description).toMatchObject({ name: 'pets', hash: u.hash, numClasses: 2, sizes: { train: 8, test: 2 } });
  });

  it('is skipped when its record and its description disagree, or its files are not Blobs', () => {
    expect(checkStoredUserData({ ...kept, hash: 'f'.repeat(64) })).toBeNull();
    expect(checkStoredUserData({ ...kept, files: [{ path: 'pets/c0/a.png', file: 'x' }] })).toBeNull();
    expect(checkStoredUserData({ ...kept, summary: { ...summary, description: { ...summary.description, classNames: ['one'] } } })).toBeNull();
  });
});

describe('a link to the user\'s data', () => {
  it('reads dataHash, and refuses one that is not a content hash', () => {
    const hash = 'ab'.repeat(32);
    expect(parseLink(`?dataset=pets&dataHash=${hash}`)).toMatchObject({ dataHash: hash, problems: [] });
    const bad = parseLink('?dataset=pets&dataHash=XYZ');
    expect(bad.dataHash).toBeNull();
    expect(bad.problems[0]!.message).toMatch(/^link: dataHash=.XYZ. is not a content hash/);
  });
});
