/**
 * Decoded pixels to the stored rows: any of grey, grey + alpha, RGB or RGBA (8 bits) to 1 channel
 * (luminance) or 3 (RGB), uint8 as MNIST is. Shared by the Node decoder (sharp's raw output) and
 * the page's worker (a canvas's RGBA), so both store the same bytes for the same pixels.
 *
 * - Luminance is Rec. 601 luma, Y = (299 R + 587 G + 114 B) / 1000 rounded, not the red channel
 *   (which `tf.browser.fromPixels(img, 1)` keeps); a grey pixel keeps its value exactly.
 * - Alpha is composited over black (a transparent pixel is 0), as a canvas stores it.
 */

export type ImageSize = readonly [height: number, width: number, channels: 1 | 3];

export const DEFAULT_IMAGE_SIZE: ImageSize = [28, 28, 1];
export const MAX_IMAGE_SIDE = 1024;

/**
 * `28x28x1` -> [28, 28, 1]; `HxW` means one channel.
 * @returns the size, or a string saying what is wrong.
 */
export function parseImageSize(text: string): ImageSize | string {
  const m = /^(\d+)x(\d+)(?:x(\d+))?$/i.exec(text.trim());
  const allowed = `HEIGHTxWIDTHxCHANNELS with sides from 1 to ${MAX_IMAGE_SIDE} and 1 (grey) or 3 (RGB) channels, e.g. 28x28x1 or 32x32x3`;
  if (!m) return allowed;
  const h = Number(m[1]), w = Number(m[2]), c = m[3] === undefined ? 1 : Number(m[3]);
  if (!(h >= 1 && h <= MAX_IMAGE_SIDE && w >= 1 && w <= MAX_IMAGE_SIDE) || (c !== 1 && c !== 3)) return allowed;
  return [h, w, c];
}

const luma = (r: number, g: number, b: number) => Math.floor((299 * r + 587 * g + 114 * b + 500) / 1000);

/**
 * `pixels` pixels of `src` (interleaved, `channels` 1 to 4 per pixel) as `out` channels (1 or 3)
 * written into `dst` from `offset`.
 */
export function storePixels(src: ArrayLike<number>, channels: number, pixels: number, out: 1 | 3, dst: Uint8Array, offset = 0): void {
  if (src.length < pixels * channels) throw new RangeError(`storePixels: ${src.length} values for ${pixels} pixels of ${channels} channels`);
  const alpha = channels === 2 || channels === 4;
  const grey = channels <= 2;
  for (let p = 0; p < pixels; p++) {
    const s = p * channels;
    const a = alpha ? src[s + channels - 1]! : 255;
    let r = src[s]!, g = grey ? r : src[s + 1]!, b = grey ? r : src[s + 2]!;
    if (a !== 255) {
      r = Math.round((r * a) / 255);
      g = Math.round((g * a) / 255);
      b = Math.round((b * a) / 255);
    }
    if (out === 1) dst[offset + p] = grey ? r : luma(r, g, b);
    else {
      dst[offset + p * 3] = r;
      dst[offset + p * 3 + 1] = g;
      dst[offset + p * 3 + 2] = b;
    }
  }
}
