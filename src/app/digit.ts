/**
 * A hand-drawn digit made into an MNIST example, as MNIST's digits were made (LeCun et al.): the
 * ink is cropped to its bounding box, scaled to fit a 20x20 box keeping its aspect ratio (area
 * averaging, which gives the grey anti-aliased edges MNIST has), and placed in the 28x28 field so
 * that its center of mass lies at the field's center. Pure and DOM-free: the drawing pad
 * (views/pad.ts) hands it the canvas's ink, the worker receives the 784 bytes.
 *
 * @example
 * const px = preprocessDigit(ink, 280, 280); // Uint8Array(784), 0..255, or null for a blank pad
 */

/** Side of the field (28) and of the box the ink is scaled into (20). */
export const FIELD = 28;
export const BOX = 20;

/**
 * How much of the unit cell [i, i + 1) the interval [a, b) covers, for every cell of a 1-D grid of
 * `cells`: the weights of area-averaging one axis.
 */
function coverage(a: number, b: number, cells: number, out: Float64Array): void {
  out.fill(0);
  const lo = Math.max(0, Math.floor(a));
  const hi = Math.min(cells - 1, Math.ceil(b) - 1);
  for (let i = lo; i <= hi; i++) out[i] = Math.max(0, Math.min(b, i + 1) - Math.max(a, i));
}

/**
 * The MNIST-style 28x28 image of the ink `ink` (row-major, `width` x `height`, each value 0 = no
 * ink to 1 = full ink), as bytes 0..255 like the dataset's pixels; null when there is no ink.
 */
export function preprocessDigit(ink: ArrayLike<number>, width: number, height: number): Uint8Array | null {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`preprocessDigit: the pad's size must be positive integers, not ${width} x ${height}`);
  }
  if (ink.length !== width * height) throw new RangeError(`preprocessDigit: ${ink.length} ink values for a ${width} x ${height} pad (want ${width * height})`);
  // 1. The ink's bounding box.
  let x0 = width, x1 = -1, y0 = height, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = ink[y * width + x]!;
      if (!(v >= 0 && v <= 1)) throw new RangeError(`preprocessDigit: ink at (${x}, ${y}) is ${v}, not between 0 and 1`);
      if (v > 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return null;
  const w = x1 - x0 + 1, h = y1 - y0 + 1;

  // 2. Scale the box so its longer side is 20, centered in the 20x20 box; each source pixel
  //    [x, x + 1) maps to [ox + x s, ox + (x + 1) s) and adds its ink times the covered area.
  const s = BOX / Math.max(w, h);
  const ox = (BOX - w * s) / 2, oy = (BOX - h * s) / 2;
  const wx = Array.from({ length: w }, (_, x) => {
    const c = new Float64Array(BOX);
    coverage(ox + x * s, ox + (x + 1) * s, BOX, c);
    return c;
  });
  const wy = new Float64Array(BOX);
  const box = new Float64Array(BOX * BOX);
  const row = new Float64Array(BOX);
  for (let y = 0; y < h; y++) {
    // This source row, scaled along x: [BOX].
    row.fill(0);
    for (let x = 0; x < w; x++) {
      const v = ink[(y0 + y) * width + x0 + x]!;
      if (v === 0) continue;
      const c = wx[x]!;
      for (let i = 0; i < BOX; i++) row[i]! += v * c[i]!;
    }
    coverage(oy + y * s, oy + (y + 1) * s, BOX, wy);
    for (let j = 0; j < BOX; j++) {
      const f = wy[j]!;
      if (f === 0) continue;
      for (let i = 0; i < BOX; i++) box[j * BOX + i]! += f * row[i]!;
    }
  }

  // 3. The center of mass (pixel centers at i + 0.5), moved to the field's center (14, 14) by
  //    a whole-pixel shift; ink shifted past the field's edge is cut off.
  let mass = 0, mx = 0, my = 0;
  for (let j = 0; j < BOX; j++) {
    for (let i = 0; i < BOX; i++) {
      const v = box[j * BOX + i]!;
      mass += v;
      mx += v * (i + 0.5);
      my += v * (j + 0.5);
    }
  }
  const dx = Math.round(FIELD / 2 - mx / mass), dy = Math.round(FIELD / 2 - my / mass);
  const out = new Uint8Array(FIELD * FIELD);
  for (let j = 0; j < BOX; j++) {
    const fy = j + dy;
    if (fy < 0 || fy >= FIELD) continue;
    for (let i = 0; i < BOX; i++) {
      const fx = i + dx;
      if (fx < 0 || fx >= FIELD) continue;
      out[fy * FIELD + fx] = Math.round(Math.min(1, box[j * BOX + i]!) * 255);
    }
  }
  return out;
}

/** The ink of an RGBA image (a canvas's `getImageData().data`): its alpha channel, 0..1. */
export function inkFromRgba(rgba: ArrayLike<number>, width: number, height: number): Float32Array {
  if (rgba.length !== width * height * 4) throw new RangeError(`inkFromRgba: ${rgba.length} values for a ${width} x ${height} RGBA image (want ${width * height * 4})`);
  const ink = new Float32Array(width * height);
  for (let i = 0; i < ink.length; i++) ink[i] = rgba[i * 4 + 3]! / 255;
  return ink;
}
