/**
 * Your own data decoded in the browser (datasets/user/browser.ts, what the page's worker runs):
 * picked files of a class folder read back byte for byte, colour to luminance (not the red
 * channel), resizing with createImageBitmap, an undecodable file skipped with a warning, a CSV.
 * PNGs are made here with OffscreenCanvas (nothing binary committed).
 */
import { describe, expect, it } from 'vitest';
import { loadPickedData, type PickedFile } from '../../datasets/user/browser.ts';

async function png(width: number, height: number, rgba: (x: number, y: number) => [number, number, number, number]): Promise<Blob> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d')!;
  const img = ctx.createImageData(width, height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) img.data.set(rgba(x, y), (y * width + x) * 4);
  ctx.putImageData(img, 0, 0);
  return canvas.convertToBlob({ type: 'image/png' });
}

const grey = (v: (x: number, y: number) => number) => (x: number, y: number): [number, number, number, number] => [v(x, y), v(x, y), v(x, y), 255];

describe('picked files decoded in the browser', () => {
  it('a class folder: grey pixels byte-identical, classes from the folder names, files in path order, a broken file skipped', async () => {
    const files: PickedFile[] = [];
    const expected: number[] = [];
    for (const [c, name] of ['cats', 'dogs'].entries()) {
      for (let i = 0; i < 3; i++) {
        const v = (x: number, y: number) => (x * 17 + y * 5 + i * 40 + c * 90) % 256;
        files.push({ path: `pets/${name}/${i}.png`, file: await png(8, 8, grey(v)) });
        for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) expected.push(v(x, y));
      }
    }
    files.push({ path: 'pets/dogs/zz-broken.png', file: new Blob(['not a png']) });
    files.push({ path: 'pets/.DS_Store', file: new Blob(['x']) });
    const { data, warnings } = await loadPickedData(files.reverse(), { data: 'pets', imageSize: [8, 8, 1] });
    expect(data.classNames).toEqual(['cats', 'dogs']);
    expect(Array.from(data.rows.y)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(Array.from(data.rows.x)).toEqual(expected);
    expect(data.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(warnings.map((w) => `${w.place.file}: ${w.message}`)).toEqual([expect.stringMatching(/^pets\/dogs\/zz-broken\.png: cannot be decoded as a PNG, JPEG or WebP image \(.+\): skipped$/)]);
  });

  it('colour to one channel is luminance, not the red channel; to three it is RGB; resized to the chosen size', async () => {
    const red = await png(4, 4, () => [200, 0, 0, 255]);
    const green = await png(16, 16, () => [0, 200, 0, 255]);
    const files: PickedFile[] = [{ path: 'c/red/a.png', file: red }, { path: 'c/green/a.png', file: green }];
    const one = await loadPickedData(files, { data: 'c', imageSize: [8, 8, 1] });
    // green (class 0) then red (class 1): Y = 0.587 * 200 and 0.299 * 200, rounded.
    expect(new Set(one.data.rows.x.subarray(0, 64))).toEqual(new Set([117]));
    expect(new Set(one.data.rows.x.subarray(64))).toEqual(new Set([60]));
    const three = await loadPickedData(files, { data: 'c', imageSize: [2, 2, 3] });
    expect(Array.from(three.data.rows.x.subarray(12, 15))).toEqual([200, 0, 0]);
    expect(three.data.rows.x.length).toBe(2 * 2 * 2 * 3);
  });

  it('a dropped CSV: string labels, the label column by name', async () => {
    const csv = new Blob(['a,b,label\n1,2,x\n3,4,y\n5,6,x\n']);
    const { data } = await loadPickedData([{ path: 't.csv', file: csv }], { data: 't.csv' });
    expect(data).toMatchObject({ kind: 'tabular', shape: [2], classNames: ['x', 'y'] });
    expect(Array.from(data.rows.x)).toEqual([1, 2, 3, 4, 5, 6]);
    await expect(loadPickedData([{ path: 't.csv', file: new Blob(['a,b,label\n1,zz,x\n3,4,y\n']) }], { data: 't.csv' })).rejects.toThrow(/t\.csv, row 2, column 'b' \(2\): 'zz' is not a number/);
  });
});
