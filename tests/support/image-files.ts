/**
 * Test fixtures for "bring your own data", made at test time (nothing binary is committed):
 * PNG files written with pngjs, JPEG with jpeg-js, WebP with sharp, class folders of them, and
 * small seeded pictures that differ by class.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { Rng } from '../../src/rng.ts';

export interface Picture {
  width: number;
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (RGBA) channels, interleaved. */
  channels: 1 | 3 | 4;
  data: Uint8Array;
}

/** PNG bytes (grey pictures as 8-bit greyscale PNG, the others as RGB(A)). */
export function pngBytes(p: Picture): Uint8Array {
  const colorType = p.channels === 1 ? 0 : p.channels === 3 ? 2 : 6;
  return PNG.sync.write({ width: p.width, height: p.height, data: Buffer.from(p.data) } as PNG, { colorType, inputColorType: colorType, inputHasAlpha: p.channels === 4 });
}

/** JPEG bytes (jpeg-js, quality 95). */
export function jpegBytes(p: Picture): Uint8Array {
  const rgba = Buffer.alloc(p.width * p.height * 4);
  for (let i = 0; i < p.width * p.height; i++) {
    for (let k = 0; k < 3; k++) rgba[i * 4 + k] = p.data[i * p.channels + (p.channels === 1 ? 0 : k)]!;
    rgba[i * 4 + 3] = 255;
  }
  return jpeg.encode({ width: p.width, height: p.height, data: rgba }, 95).data;
}

/** WebP bytes (sharp, lossless). */
export async function webpBytes(p: Picture): Promise<Uint8Array> {
  return sharp(Buffer.from(p.data), { raw: { width: p.width, height: p.height, channels: p.channels } }).webp({ lossless: true }).toBuffer();
}

export function writeFile(path: string, bytes: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  return path;
}

export const tempDir = (prefix = 'activelab-own-') => mkdtempSync(join(tmpdir(), prefix));

/**
 * A grey picture of class `c`: a bright bar whose position and direction depend on the class,
 * with seeded noise, so a small model can tell the classes apart.
 */
export function classPicture(c: number, rng: Rng, size = 12, channels: 1 | 3 = 1): Picture {
  const data = new Uint8Array(size * size * channels);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const on = c % 3 === 0 ? y === (c * 3 + 2) % size : c % 3 === 1 ? x === (c * 3 + 2) % size : x === y;
      const v = Math.max(0, Math.min(255, (on ? 220 : 20) + Math.floor((rng.next() - 0.5) * 40)));
      for (let k = 0; k < channels; k++) data[(y * size + x) * channels + k] = k === 1 && channels === 3 ? 255 - v : v;
    }
  }
  return { width: size, height: size, channels, data };
}

/** A folder with one subfolder per class name, `perClass` PNG pictures in each (`classPicture`). */
export function writeClassFolder(root: string, classes: readonly string[], perClass: number, seed = 1, format: 'png' | 'jpg' = 'png'): string {
  const rng = new Rng(seed);
  classes.forEach((name, c) => {
    for (let i = 0; i < perClass; i++) {
      const p = classPicture(c, rng);
      writeFile(join(root, name, `${String(i).padStart(4, '0')}.${format}`), format === 'png' ? pngBytes(p) : jpegBytes(p));
    }
  });
  return root;
}

/** A CSV of `perClass` rows per class: two informative features, one noise feature, string labels. */
export function classTable(classes: readonly string[], perClass: number, seed = 1, sep = ','): string {
  const rng = new Rng(seed);
  const lines = [['f1', 'f2', 'noise', 'species'].join(sep)];
  classes.forEach((name, c) => {
    for (let i = 0; i < perClass; i++) {
      const a = Math.cos((2 * Math.PI * c) / classes.length) * 3 + rng.next();
      const b = Math.sin((2 * Math.PI * c) / classes.length) * 3 + rng.next();
      lines.push([a.toFixed(4), b.toFixed(4), (rng.next() * 10).toFixed(3), name].join(sep));
    }
  });
  return `${lines.join('\n')}\n`;
}
