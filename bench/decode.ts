/**
 * `npm run bench:decode`: the Node image decoders for `--data`, on 2,000 generated images
 * (tests/support/image-files.ts): 1,000 PNG and 1,000 JPEG, 28x28 grey pictures, then the same at
 * 96x96 RGB resized to 28x28x1. sharp (libvips, native; what datasets/user/node.ts uses) against
 * pngjs + jpeg-js (pure JavaScript; no WebP, and no resize: at 96x96 it is timed decoding only).
 * Prints ms per image and images per second for each.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImage } from '../datasets/user/node.ts';
import { Rng } from '../src/rng.ts';
import { classPicture, jpegBytes, pngBytes, tempDir, writeFile } from '../tests/support/image-files.ts';

const N = 2000;

function write(side: number, channels: 1 | 3): string[] {
  const dir = tempDir('activelab-bench-decode-');
  const rng = new Rng(7);
  const paths: string[] = [];
  for (let i = 0; i < N; i++) {
    const p = classPicture(i % 10, rng, side, channels);
    paths.push(writeFile(join(dir, `${i}.${i % 2 ? 'jpg' : 'png'}`), i % 2 ? jpegBytes(p) : pngBytes(p)));
  }
  return paths;
}

async function timeSharp(files: Uint8Array[], concurrency: number): Promise<number> {
  const dst = new Uint8Array(28 * 28);
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < files.length) {
      const why = await decodeImage(files[next++]!, [28, 28, 1], dst, 0);
      if (why) throw new Error(why);
    }
  }));
  return performance.now() - t0;
}

function timePureJs(files: Uint8Array[]): number {
  const t0 = performance.now();
  files.forEach((b, i) => {
    if (i % 2) jpeg.decode(b, { useTArray: true });
    else PNG.sync.read(Buffer.from(b));
  });
  return performance.now() - t0;
}

const show = (what: string, ms: number) => console.log(`${what.padEnd(44)} ${(ms / N).toFixed(3)} ms/image  ${Math.round((N / ms) * 1000).toLocaleString('en')} images/s`);

for (const [side, channels] of [[28, 1], [96, 3]] as const) {
  const files = write(side, channels).map((p) => new Uint8Array(readFileSync(p)));
  console.log(`\n${N} images (half PNG, half JPEG), ${side}x${side}x${channels}:`);
  await timeSharp(files.slice(0, 50), 1); // warm-up
  show('sharp, one at a time, to 28x28x1', await timeSharp(files, 1));
  show('sharp, 8 at a time, to 28x28x1', await timeSharp(files, 8));
  timePureJs(files.slice(0, 50));
  show(`pngjs + jpeg-js, decode only${side === 28 ? '' : ' (no resize)'}`, timePureJs(files));
}
