/**
 * The drawing pad's preprocessing (src/app/digit.ts) on inputs whose MNIST image can be worked
 * out by hand: crop to the ink, scale into 20x20 keeping the aspect ratio, center of mass to the
 * middle of 28x28.
 */
import { describe, expect, it } from 'vitest';
import { FIELD, inkFromRgba, preprocessDigit } from '../../src/app/digit.ts';

/** A W x H pad with the rectangle [x0, x1) x [y0, y1) fully inked. */
function pad(width: number, height: number, x0: number, x1: number, y0: number, y1: number): Float32Array {
  const ink = new Float32Array(width * height);
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) ink[y * width + x] = 1;
  return ink;
}

/** The rows and columns of the 28x28 image holding ink, and the values there. */
function inked(img: Uint8Array) {
  const rows = new Set<number>(), cols = new Set<number>(), values = new Set<number>();
  img.forEach((v, k) => {
    if (v === 0) return;
    rows.add(Math.floor(k / FIELD));
    cols.add(k % FIELD);
    values.add(v);
  });
  const span = (s: Set<number>) => [Math.min(...s), Math.max(...s)];
  return { rows: span(rows), cols: span(cols), values: [...values].sort((a, b) => a - b), count: img.filter((v) => v > 0).length };
}

describe('preprocessDigit', () => {
  it('scales an off-center 30x30 square to a full 20x20 block centered at rows and columns 4 to 23', () => {
    // Near the bottom-left corner of a 100x100 pad.
    const img = preprocessDigit(pad(100, 100, 10, 40, 60, 90), 100, 100)!;
    expect(img).toHaveLength(784);
    expect(inked(img)).toEqual({ rows: [4, 23], cols: [4, 23], values: [255], count: 400 });
  });

  it('gives the same image wherever the square was drawn, and at any size', () => {
    const a = preprocessDigit(pad(100, 100, 10, 40, 60, 90), 100, 100)!;
    const b = preprocessDigit(pad(300, 200, 250, 290, 0, 40), 300, 200)!;
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('keeps a thin line thin: a 50x1 stroke becomes 20 wide, its ink shared by two rows at the center', () => {
    // Scale 20/50 = 0.4: the line is 0.4 px tall, centered in the 20-box at y 9.8..10.2, so rows
    // 9 and 10 each get 0.2 of full ink (51 of 255); center of mass (10, 10) -> shift by 4.
    const img = preprocessDigit(pad(80, 100, 5, 55, 70, 71), 80, 100)!;
    expect(inked(img)).toEqual({ rows: [13, 14], cols: [4, 23], values: [51], count: 40 });
    for (let c = 4; c < 24; c++) {
      expect(img[13 * FIELD + c]).toBe(51);
      expect(img[14 * FIELD + c]).toBe(51);
    }
  });

  it('centers by the center of mass, not by the bounding box', () => {
    // An L: a 30-tall vertical bar and a bottom bar, mass heavy on the left and bottom.
    const ink = pad(60, 60, 10, 40, 50, 55);
    for (let y = 20; y < 50; y++) for (let x = 10; x < 15; x++) ink[y * 60 + x] = 1;
    const img = preprocessDigit(ink, 60, 60)!;
    let m = 0, mx = 0, my = 0;
    img.forEach((v, k) => {
      m += v;
      mx += v * ((k % FIELD) + 0.5);
      my += v * (Math.floor(k / FIELD) + 0.5);
    });
    // Whole-pixel shifts: within half a pixel of the center.
    expect(Math.abs(mx / m - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(my / m - 14)).toBeLessThanOrEqual(0.5);
    // The bounding box is not centered: the vertical bar sits right of column 4.
    expect(inked(img).cols[0]).toBeGreaterThan(4);
  });

  it('returns null for a blank pad and names bad input', () => {
    expect(preprocessDigit(new Float32Array(16), 4, 4)).toBeNull();
    expect(() => preprocessDigit(new Float32Array(15), 4, 4)).toThrow(/15 ink values for a 4 x 4 pad/);
    expect(() => preprocessDigit([0, 2, 0, 0], 2, 2)).toThrow(/ink at \(1, 0\) is 2/);
    expect(() => preprocessDigit([], 0, 3)).toThrow(/positive integers/);
  });
});

describe('inkFromRgba', () => {
  it('reads the alpha channel as ink', () => {
    expect(Array.from(inkFromRgba([0, 0, 0, 255, 9, 9, 9, 0, 0, 0, 0, 51], 3, 1))).toEqual([1, 0, 0.20000000298023224]);
    expect(() => inkFromRgba([0, 0, 0], 1, 1)).toThrow(/3 values for a 1 x 1 RGBA/);
  });
});
